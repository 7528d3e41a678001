//! An expert's branding as the public profile sends it: the validated
//! colours, typeface, base size and layout their profile page is drawn
//! in, as the model holds them (so nothing unvalidated can be sent).

use droply_models::{FontFamily, FontSize, HexColor, ProfileLayout, User};
use serde::Serialize;
use utoipa::ToSchema;

use super::model_schemas::{FontFamilySchema, ProfileLayoutSchema};

/// How an expert's profile page looks.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Branding {
    /// Page background colour.
    #[schema(value_type = String, pattern = "^#[0-9A-F]{6}$", example = "#FFFFFF")]
    pub background_color: HexColor,
    /// Primary brand colour (links, buttons).
    #[schema(value_type = String, pattern = "^#[0-9A-F]{6}$", example = "#2563EB")]
    pub primary_color: HexColor,
    /// Secondary brand colour (headings, accents).
    #[schema(value_type = String, pattern = "^#[0-9A-F]{6}$", example = "#0F172A")]
    pub secondary_color: HexColor,
    /// Typeface of the profile page (snake_case name).
    #[schema(value_type = FontFamilySchema)]
    pub font_family: FontFamily,
    /// Base font size in pixels.
    #[schema(value_type = u8, minimum = 10, maximum = 32)]
    pub font_size: FontSize,
    /// Layout of the profile page.
    #[schema(value_type = ProfileLayoutSchema)]
    pub profile_layout: ProfileLayout,
}

impl From<&User> for Branding {
    fn from(user: &User) -> Self {
        Branding {
            background_color: user.background_color.clone(),
            primary_color: user.primary_color.clone(),
            secondary_color: user.secondary_color.clone(),
            font_family: user.font_family,
            font_size: user.font_size,
            profile_layout: user.profile_layout,
        }
    }
}

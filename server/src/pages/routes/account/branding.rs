//! `/account/branding`: how the public profile looks: background, primary
//! and text (secondary) colours, typeface, base size and one of the five
//! layouts. `branding.js` restyles a preview as the inputs change and
//! checks contrast live; the page itself reports the contrast of what is
//! saved (text on background, primary on background) with the same WCAG
//! formula (`pages::contrast`), so the warning stands without scripts too.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use droply_engine::accounts::ProfileUpdate;
use droply_models::{FontFamily, FontSize, HexColor, ProfileLayout, User};
use maud::{Markup, html};
use serde::Deserialize;

use super::frame::{account_page, api_error, failure, notices};
use crate::http::{ApiError, AppState, blocking};
use crate::pages::contrast;
use crate::pages::extract::{PageForm, PageQuery};
use crate::pages::layout::csrf_field;
use crate::pages::page::{PageError, html, html_with, see_other};
use crate::pages::viewer::Viewer;

const HERE: &str = "/account/branding";

/// `/account/branding`.
pub fn router() -> Router<AppState> {
    Router::new().route(HERE, get(show_branding).post(save_branding))
}

/// The branding form as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct BrandingForm {
    background_color: String,
    primary_color: String,
    secondary_color: String,
    font_family: String,
    font_size: String,
    profile_layout: String,
}

#[derive(Debug, Deserialize)]
struct SavedQuery {
    saved: Option<String>,
}

impl BrandingForm {
    fn of(user: &User) -> Self {
        BrandingForm {
            background_color: user.background_color.as_str().to_owned(),
            primary_color: user.primary_color.as_str().to_owned(),
            secondary_color: user.secondary_color.as_str().to_owned(),
            font_family: user.font_family.as_str().to_owned(),
            font_size: user.font_size.get().to_string(),
            profile_layout: user.profile_layout.as_str().to_owned(),
        }
    }

    fn update(&self) -> Result<ProfileUpdate, ApiError> {
        let color = |text: &str| HexColor::parse(text.trim()).map_err(api_error);
        let size = self.font_size.trim().parse::<u8>().map_err(|_| {
            api_error(droply_models::Error::invalid(
                "font_size",
                "must be a whole number of pixels",
            ))
        })?;
        let layout = self
            .profile_layout
            .parse::<ProfileLayout>()
            .map_err(api_error)?;
        Ok(ProfileUpdate {
            background_color: Some(color(&self.background_color)?),
            primary_color: Some(color(&self.primary_color)?),
            secondary_color: Some(color(&self.secondary_color)?),
            font_family: Some(self.font_family.clone()),
            font_size: Some(FontSize::new(size).map_err(api_error)?),
            profile_layout: Some(layout),
            ..ProfileUpdate::default()
        })
    }
}

/// A CSS font stack for `family`, for the preview.
fn font_stack(family: FontFamily) -> String {
    let fallback = match family {
        FontFamily::SourceSerif | FontFamily::Merriweather | FontFamily::PlayfairDisplay => "serif",
        FontFamily::JetBrainsMono => "monospace",
        _ => "sans-serif",
    };
    format!("\"{}\", {fallback}", family.display_name())
}

/// The contrast warnings for text in `text` and `primary` on `background`.
fn contrast_warnings(background: &str, text: &str, primary: &str) -> Vec<String> {
    let (Ok(bg), Ok(fg), Ok(primary)) = (
        HexColor::parse(background),
        HexColor::parse(text),
        HexColor::parse(primary),
    ) else {
        return Vec::new();
    };
    [("Text", &fg), ("Primary colour", &primary)]
        .into_iter()
        .filter(|(_, color)| !contrast::readable(color, &bg))
        .map(|(what, color)| {
            format!(
                "{what} on the background has a contrast of {:.2}:1, below the {}:1 people need to read it.",
                contrast::ratio(color, &bg),
                contrast::MIN_TEXT_RATIO
            )
        })
        .collect()
}

async fn show_branding(
    viewer: Viewer,
    PageQuery(query): PageQuery<SavedQuery>,
) -> Result<Response, PageError> {
    let user = viewer.require(HERE)?;
    let saved = query.saved.is_some().then_some("Your branding is saved.");
    Ok(html(branding_page(
        &viewer,
        &BrandingForm::of(user),
        None,
        saved,
    )))
}

async fn save_branding(
    State(state): State<AppState>,
    viewer: Viewer,
    PageForm(form): PageForm<BrandingForm>,
) -> Result<Response, PageError> {
    let user = viewer.require(HERE)?;
    let id = user.id;
    let result = match form.update() {
        Ok(update) => blocking(&state, move |engine| engine.update_profile(id, update))
            .await
            .map(|_| ()),
        Err(err) => Err(err),
    };
    match result {
        Ok(()) => Ok(see_other("/account/branding?saved=1")),
        Err(err) => {
            let (status, message) = failure(&err);
            Ok(html_with(
                status,
                branding_page(&viewer, &form, Some(&message), None),
            ))
        }
    }
}

fn color_field(id: &str, label: &str, value: &str) -> Markup {
    html! {
        div class="color-field" {
            label for=(id) { (label) }
            input id=(id) name=(id) type="color" value=(value.to_ascii_lowercase()) data-brand-input;
        }
    }
}

fn branding_page(
    viewer: &Viewer,
    form: &BrandingForm,
    error: Option<&str>,
    saved: Option<&str>,
) -> Markup {
    let warnings = contrast_warnings(
        &form.background_color,
        &form.secondary_color,
        &form.primary_color,
    );
    let content = html! {
        h1 { "Branding" }
        (notices(error, saved))
        div class="branding" {
            form method="post" action=(HERE) class="stack branding-form" id="branding-form" data-min-ratio=(contrast::MIN_TEXT_RATIO) {
                (csrf_field(viewer))
                fieldset {
                    legend { "Colours" }
                    (color_field("background_color", "Background", &form.background_color))
                    (color_field("secondary_color", "Text (secondary colour)", &form.secondary_color))
                    (color_field("primary_color", "Primary colour", &form.primary_color))
                }
                div id="contrast-report" class="contrast-report" role="status" aria-live="polite" {
                    @for warning in &warnings {
                        p class="alert contrast-warning" { (warning) }
                    }
                    @if warnings.is_empty() {
                        p class="success" { "Text and primary colour are readable on the background." }
                    }
                }
                label for="font_family" { "Typeface" }
                select id="font_family" name="font_family" data-brand-input {
                    @for family in FontFamily::ALL {
                        option value=(family.as_str()) data-stack=(font_stack(*family)) selected[family.as_str() == form.font_family] { (family.display_name()) }
                    }
                }
                label for="font_size" { "Base size (px)" }
                input id="font_size" name="font_size" type="number" min=(FontSize::MIN) max=(FontSize::MAX) required value=(form.font_size) data-brand-input;
                fieldset {
                    legend { "Layout" }
                    @for layout in ProfileLayout::ALL {
                        label class="check" {
                            input type="radio" name="profile_layout" value=(layout.as_str()) checked[layout.as_str() == form.profile_layout] data-brand-input;
                            " " (layout.as_str())
                        }
                    }
                }
                button type="submit" { "Save branding" }
            }
            section class="brand-preview-wrap" aria-labelledby="preview-title" {
                h2 id="preview-title" { "Preview" }
                div id="brand-preview" class="brand-preview" data-layout=(form.profile_layout) {
                    div class="brand-preview-head" {
                        div class="brand-avatar" aria-hidden="true" { "A" }
                        div {
                            p class="brand-name" { "Alex Example" }
                            p class="brand-headline" { "Product designer · Berlin" }
                        }
                    }
                    p class="brand-text" { "I help teams turn rough ideas into products people enjoy using." }
                    span class="brand-button" { "Book a session" }
                }
            }
        }
    };
    account_page(viewer, "Branding", HERE, &["branding.js"], content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn low_contrast_is_reported_for_text_and_primary() {
        let both = contrast_warnings("#888888", "#777777", "#999999");
        assert_eq!(both.len(), 2, "{both:?}");
        assert!(both[0].starts_with("Text on the background has a contrast of 1."));
        assert!(contrast_warnings("#FFFFFF", "#111111", "#1D4ED8").is_empty());
    }
}

//! The look of a generated profile page: a colour palette, a typeface, a
//! size and a layout, chosen from combinations that go together.

use droply_models::{FontFamily, FontSize, HexColor, ProfileLayout, User};
use rand::Rng;
use rand::seq::IndexedRandom;

use droply_engine::Result;

/// (background, primary, secondary) colours.
const PALETTES: &[([u8; 3], [u8; 3], [u8; 3])] = &[
    ([0xFF, 0xFF, 0xFF], [0x25, 0x63, 0xEB], [0x0F, 0x17, 0x2A]),
    ([0xFF, 0xFF, 0xFF], [0x0E, 0x7C, 0x66], [0x1F, 0x29, 0x37]),
    ([0xFA, 0xFA, 0xF9], [0xB4, 0x53, 0x09], [0x29, 0x25, 0x24]),
    ([0xF8, 0xFA, 0xFC], [0x7C, 0x3A, 0xED], [0x1E, 0x1B, 0x4B]),
    ([0xFF, 0xFB, 0xEB], [0xD9, 0x77, 0x06], [0x45, 0x1A, 0x03]),
    ([0xF0, 0xFD, 0xF4], [0x15, 0x80, 0x3D], [0x14, 0x53, 0x2D]),
    ([0xFF, 0xF1, 0xF2], [0xE1, 0x1D, 0x48], [0x4C, 0x05, 0x19]),
    ([0x0F, 0x17, 0x2A], [0x38, 0xBD, 0xF8], [0xE2, 0xE8, 0xF0]),
    ([0x11, 0x18, 0x27], [0xF5, 0x9E, 0x0B], [0xF9, 0xFA, 0xFB]),
    ([0xFF, 0xFF, 0xFF], [0x00, 0x00, 0x00], [0x6B, 0x72, 0x80]),
];

/// Gives `user` a random but coherent look; a third keep the defaults.
pub(crate) fn apply(rng: &mut impl Rng, user: &mut User) -> Result<()> {
    if rng.random_bool(0.33) {
        return Ok(());
    }
    if let Some((bg, primary, secondary)) = PALETTES.choose(rng) {
        user.background_color = HexColor::rgb(bg[0], bg[1], bg[2]);
        user.primary_color = HexColor::rgb(primary[0], primary[1], primary[2]);
        user.secondary_color = HexColor::rgb(secondary[0], secondary[1], secondary[2]);
    }
    if let Some(font) = FontFamily::ALL.choose(rng) {
        user.font_family = *font;
    }
    if let Some(layout) = ProfileLayout::ALL.choose(rng) {
        user.profile_layout = *layout;
    }
    user.font_size = FontSize::new(*[14, 15, 16, 16, 16, 17, 18].choose(rng).unwrap_or(&16))?;
    Ok(())
}

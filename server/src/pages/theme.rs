//! An expert's branding as a stylesheet: the CSS custom properties their
//! profile page is drawn with, generated from the validated branding only
//! (colours are `#RRGGBB`, the typeface maps to a fixed font stack, the
//! size is a number of pixels), so nothing an expert types reaches CSS.
//! Text colours are chosen for contrast against the expert's background
//! and primary colour, and the surfaces and lines are mixed from them, so
//! a dark background still reads.

use droply_models::{FontFamily, User};

use super::contrast::{MIN_TEXT_RATIO, Rgb, contrast};
use sha2::{Digest, Sha256};

/// Dark text, for light backgrounds.
const DARK: Rgb = Rgb(0x1D, 0x23, 0x30);
/// Light text, for dark backgrounds.
const LIGHT: Rgb = Rgb(0xF5, 0xF7, 0xFA);
/// White, that light surfaces lean to.
const WHITE: Rgb = Rgb(0xFF, 0xFF, 0xFF);

/// Dark or light text, whichever reads better on `background`.
fn text_on(background: Rgb) -> Rgb {
    if contrast(background, DARK) >= contrast(background, LIGHT) {
        DARK
    } else {
        LIGHT
    }
}

/// The CSS font stack of a typeface: its own name first, then look-alikes
/// every system has. Only these stacks are ever written.
pub fn font_stack(font: FontFamily) -> &'static str {
    match font {
        FontFamily::Inter => "Inter, system-ui, -apple-system, \"Segoe UI\", Roboto, sans-serif",
        FontFamily::Roboto => "Roboto, \"Helvetica Neue\", Arial, sans-serif",
        FontFamily::OpenSans => "\"Open Sans\", \"Segoe UI\", Arial, sans-serif",
        FontFamily::Lato => "Lato, \"Helvetica Neue\", Arial, sans-serif",
        FontFamily::Montserrat => "Montserrat, \"Segoe UI\", Arial, sans-serif",
        FontFamily::Poppins => "Poppins, \"Segoe UI\", Arial, sans-serif",
        FontFamily::SourceSerif => "\"Source Serif\", \"Source Serif 4\", Georgia, serif",
        FontFamily::Merriweather => "Merriweather, Georgia, \"Times New Roman\", serif",
        FontFamily::PlayfairDisplay => "\"Playfair Display\", Georgia, \"Times New Roman\", serif",
        FontFamily::JetBrainsMono => "\"JetBrains Mono\", ui-monospace, Menlo, Consolas, monospace",
    }
}

/// The stylesheet of `expert`'s branding.
pub fn stylesheet(expert: &User) -> String {
    let background = Rgb::of(&expert.background_color);
    let primary = Rgb::of(&expert.primary_color);
    let secondary = Rgb::of(&expert.secondary_color);
    // The expert's text colour (their secondary colour) where it reads on
    // their background; else dark or light text, whichever reads.
    let text = if contrast(secondary, background) >= MIN_TEXT_RATIO {
        secondary
    } else {
        text_on(background)
    };
    // Sections stand out from the page: lighter on a light page, a shade
    // towards the text on a dark one.
    let surface = if text.luminance() < background.luminance() {
        background.mix(WHITE, 70)
    } else {
        background.mix(text, 7)
    };
    format!(
        "/* The expert's branding: generated from validated values only. */\n\
         :root {{\n  \
         --bg: {bg};\n  \
         --fg: {fg};\n  \
         --muted: {muted};\n  \
         --surface: {surface};\n  \
         --soft: {soft};\n  \
         --line: {line};\n  \
         --accent: {accent};\n  \
         --accent-fg: {accent_fg};\n  \
         --brand-secondary: {secondary};\n  \
         --brand-secondary-fg: {secondary_fg};\n  \
         --font: {font};\n  \
         --size: {size}px;\n\
         }}\n",
        bg = background.css(),
        fg = text.css(),
        muted = text.mix(background, 30).css(),
        surface = surface.css(),
        soft = background.mix(text, 8).css(),
        line = background.mix(text, 20).css(),
        accent = primary.css(),
        accent_fg = text_on(primary).css(),
        secondary = secondary.css(),
        secondary_fg = text_on(secondary).css(),
        font = font_stack(expert.font_family),
        size = expert.font_size.get(),
    )
}

/// A short version of a stylesheet, for its URL (a new branding, a new URL).
pub fn version(css: &str) -> String {
    let digest = hex::encode(Sha256::digest(css.as_bytes()));
    digest[..12].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use droply_models::HexColor;
    use droply_models::{
        Currency, Email, FontSize, LanguageCode, NewUser, ReferralCode, TimeZone, Timestamp,
        UserId, Username,
    };

    /// A user with this branding.
    pub(crate) fn expert(background: &str, primary: &str, font: FontFamily, size: u8) -> User {
        let new = NewUser {
            username: Username::parse("anna").expect("valid"),
            email: Email::parse("anna@example.com").expect("valid"),
            password_hash: String::new(),
            full_name: "Anna Schmidt".into(),
            currency: Currency::EUR,
            timezone: TimeZone::parse("Europe/Berlin").expect("valid"),
            language: LanguageCode::parse("de").expect("valid"),
            referral_code: ReferralCode::parse("ANNA2027").expect("valid"),
            referred_by: None,
        };
        let mut user = User::new(new, UserId::new(1), Timestamp::now());
        user.background_color = HexColor::parse(background).expect("valid");
        user.primary_color = HexColor::parse(primary).expect("valid");
        user.font_family = font;
        user.font_size = FontSize::new(size).expect("valid");
        user
    }

    #[test]
    fn the_branding_becomes_custom_properties() {
        let css = stylesheet(&expert("#fff", "#112233", FontFamily::OpenSans, 18));
        assert!(css.contains("--bg: #FFFFFF;"), "{css}");
        assert!(css.contains("--accent: #112233;"), "{css}");
        assert!(css.contains("--accent-fg: #F5F7FA;"), "{css}");
        // The default secondary colour is the text colour: it reads on white.
        assert!(css.contains("--fg: #0F172A;"), "{css}");
        assert!(
            css.contains("--font: \"Open Sans\", \"Segoe UI\", Arial, sans-serif;"),
            "{css}"
        );
        assert!(css.contains("--size: 18px;"), "{css}");
    }

    #[test]
    fn a_text_colour_that_would_not_read_gives_way_to_one_that_does() {
        let mut user = expert("#888888", "#112233", FontFamily::Inter, 16);
        user.secondary_color = HexColor::parse("#777777").expect("valid");
        let css = stylesheet(&user);
        assert!(!css.contains("--fg: #777777;"), "{css}");
        assert!(css.contains("--fg: #1D2330;"), "{css}");
    }

    #[test]
    fn text_on_a_dark_background_is_light_and_reads() {
        let css = stylesheet(&expert("#101010", "#FFD700", FontFamily::Inter, 16));
        assert!(css.contains("--fg: #F5F7FA;"), "{css}");
        assert!(css.contains("--accent-fg: #1D2330;"), "{css}");
        for background in ["#000000", "#FFFFFF", "#2563EB", "#FFFF00", "#0F172A"] {
            let bg = Rgb::of(&HexColor::parse(background).expect("valid"));
            assert!(contrast(bg, text_on(bg)) >= 4.5, "{background}");
        }
        // A mid grey reads less well either way: the better one is taken.
        let grey = Rgb(0x77, 0x77, 0x77);
        assert!(contrast(grey, text_on(grey)) >= contrast(grey, DARK).min(contrast(grey, LIGHT)));
    }

    #[test]
    fn every_font_stack_starts_with_its_typeface_and_holds_no_css_syntax() {
        for font in FontFamily::ALL {
            let stack = font_stack(*font);
            let first = stack.split(',').next().expect("valid").trim_matches('"');
            assert_eq!(first, font.display_name());
            assert!(
                !stack.contains([';', '{', '}', '<', '>', '\\', '/']),
                "{stack}"
            );
        }
    }

    #[test]
    fn colours_mix_in_integer_steps() {
        let white = Rgb(255, 255, 255);
        let black = Rgb(0, 0, 0);
        assert_eq!(white.mix(black, 0), white);
        assert_eq!(white.mix(black, 100), black);
        assert_eq!(white.mix(black, 50), Rgb(128, 128, 128));
        assert_eq!(version("a").len(), 12);
        assert_ne!(version("a"), version("b"));
    }
}

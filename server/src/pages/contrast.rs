//! Colours as channels ([`Rgb`]: luminance, mixing) and the WCAG 2
//! contrast between two of them: the relative luminance of each
//! (sRGB channels linearised), and the ratio `(lighter + 0.05) / (darker +
//! 0.05)`, from 1:1 to 21:1. Text needs at least [`MIN_TEXT_RATIO`] (level
//! AA for body text). `assets/branding.js` computes the same numbers live
//! in the editor; this is the check a save answers with.

use droply_models::HexColor;

/// The least contrast body text needs (WCAG 2 level AA).
pub const MIN_TEXT_RATIO: f64 = 4.5;

/// A colour as red, green and blue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// The colour of a validated `#RRGGBB` (black if it were ever not).
    pub fn of(color: &HexColor) -> Rgb {
        let hex = color.as_str().trim_start_matches('#');
        let byte = |at: usize| {
            hex.get(at..at + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .unwrap_or(0)
        };
        Rgb(byte(0), byte(2), byte(4))
    }

    /// `#RRGGBB`.
    pub fn css(self) -> String {
        format!("#{:02X}{:02X}{:02X}", self.0, self.1, self.2)
    }

    /// The relative luminance, 0 (black) to 1 (white).
    pub fn luminance(self) -> f64 {
        let linear = |byte: u8| {
            let c = f64::from(byte) / 255.0;
            if c <= 0.039_28 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * linear(self.0) + 0.7152 * linear(self.1) + 0.0722 * linear(self.2)
    }

    /// `percent` of the way from this colour to `other`.
    pub fn mix(self, other: Rgb, percent: u16) -> Rgb {
        let blend = |a: u8, b: u8| {
            let value = (u16::from(a) * (100 - percent) + u16::from(b) * percent + 50) / 100;
            u8::try_from(value).unwrap_or(u8::MAX)
        };
        Rgb(
            blend(self.0, other.0),
            blend(self.1, other.1),
            blend(self.2, other.2),
        )
    }
}

/// The contrast ratio of two colours (order does not matter), 1 to 21.
pub fn contrast(a: Rgb, b: Rgb) -> f64 {
    let (la, lb) = (a.luminance(), b.luminance());
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// The contrast ratio of `a` against `b` (order does not matter), 1 to 21.
pub fn ratio(a: &HexColor, b: &HexColor) -> f64 {
    contrast(Rgb::of(a), Rgb::of(b))
}

/// Whether text in `fg` on `bg` is readable enough.
pub fn readable(fg: &HexColor, bg: &HexColor) -> bool {
    ratio(fg, bg) >= MIN_TEXT_RATIO
}

#[cfg(test)]
mod tests {
    use super::*;

    fn color(text: &str) -> HexColor {
        HexColor::parse(text).expect("valid")
    }

    #[test]
    fn black_on_white_is_21_and_same_colours_are_1() {
        assert!((ratio(&color("#000000"), &color("#FFFFFF")) - 21.0).abs() < 1e-9);
        assert!((ratio(&color("#FFFFFF"), &color("#000000")) - 21.0).abs() < 1e-9);
        assert!((ratio(&color("#3B4CCA"), &color("#3B4CCA")) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn known_pairs_match_the_wcag_figures() {
        // #777777 on white is the classic 4.48:1, just under AA.
        let grey = ratio(&color("#777777"), &color("#FFFFFF"));
        assert!((grey - 4.48).abs() < 0.01, "{grey}");
        assert!(!readable(&color("#777777"), &color("#FFFFFF")));
        assert!(readable(&color("#767676"), &color("#FFFFFF")));
        let close = ratio(&color("#777777"), &color("#888888"));
        assert!(close < 1.5, "{close}");
        assert!(!readable(&color("#777777"), &color("#888888")));
    }
}

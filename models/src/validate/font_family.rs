//! `FontFamily`: the typefaces a profile may use.

string_enum! {
    /// A typeface from the fixed set offered in profile branding.
    /// Serialises as snake_case (`"open_sans"`); see
    /// [`FontFamily::display_name`] for the human name.
    pub enum FontFamily("font_family") {
        /// Inter (the default).
        Inter => "inter",
        /// Roboto.
        Roboto => "roboto",
        /// Open Sans.
        OpenSans => "open_sans",
        /// Lato.
        Lato => "lato",
        /// Montserrat.
        Montserrat => "montserrat",
        /// Poppins.
        Poppins => "poppins",
        /// Source Serif.
        SourceSerif => "source_serif",
        /// Merriweather.
        Merriweather => "merriweather",
        /// Playfair Display.
        PlayfairDisplay => "playfair_display",
        /// JetBrains Mono.
        JetBrainsMono => "jetbrains_mono",
    }
}

impl FontFamily {
    /// The typeface's name as a stylesheet writes it, e.g. `"Open Sans"`.
    pub const fn display_name(self) -> &'static str {
        match self {
            Self::Inter => "Inter",
            Self::Roboto => "Roboto",
            Self::OpenSans => "Open Sans",
            Self::Lato => "Lato",
            Self::Montserrat => "Montserrat",
            Self::Poppins => "Poppins",
            Self::SourceSerif => "Source Serif",
            Self::Merriweather => "Merriweather",
            Self::PlayfairDisplay => "Playfair Display",
            Self::JetBrainsMono => "JetBrains Mono",
        }
    }

    /// Parses either the snake_case name or the display name
    /// (case-insensitive), for lenient form input.
    pub fn parse_lenient(input: &str) -> crate::Result<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|f| f.as_str() == input || f.display_name().eq_ignore_ascii_case(input))
            .map_or_else(|| input.parse(), Ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!("open_sans".parse::<FontFamily>(), Ok(FontFamily::OpenSans));
        assert_eq!(
            FontFamily::parse_lenient("Playfair Display"),
            Ok(FontFamily::PlayfairDisplay)
        );
        assert_eq!(
            FontFamily::parse_lenient("jetbrains mono"),
            Ok(FontFamily::JetBrainsMono)
        );
        assert!("Comic Sans".parse::<FontFamily>().is_err());
        assert!(FontFamily::parse_lenient("Comic Sans").is_err());
    }

    #[test]
    fn serde_is_snake_case() {
        for font in FontFamily::ALL {
            let json = serde_json::to_string(font).expect("serialize");
            assert_eq!(json, format!("\"{}\"", font.as_str()));
        }
    }
}

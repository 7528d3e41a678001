//! What a file is, read from its first bytes (its magic number), never from
//! what the client says: the allowlist of types content may be uploaded
//! as, each with its media type, extension and family. A file whose bytes
//! match none is refused.

use droply_models::ContentType;

/// How many leading bytes [`sniff`] needs to decide.
pub const SNIFF_BYTES: usize = 64;

/// A broad kind of file, for matching a file to what the content says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// PDF.
    Document,
    /// PNG, JPEG, GIF, WebP.
    Image,
    /// MP3, AAC, M4A, Ogg, FLAC, WAV.
    Audio,
    /// MP4, QuickTime, WebM, Matroska.
    Video,
    /// ZIP (and the formats built on it).
    Archive,
}

/// One allowed type of file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileType {
    /// Its media type, as sent back in `Content-Type`.
    pub media_type: &'static str,
    /// The extension a download is named with.
    pub extension: &'static str,
    /// Its family.
    pub family: Family,
}

const fn file_type(media_type: &'static str, extension: &'static str, family: Family) -> FileType {
    FileType {
        media_type,
        extension,
        family,
    }
}

const PDF: FileType = file_type("application/pdf", "pdf", Family::Document);
const PNG: FileType = file_type("image/png", "png", Family::Image);
const JPEG: FileType = file_type("image/jpeg", "jpg", Family::Image);
const GIF: FileType = file_type("image/gif", "gif", Family::Image);
const WEBP: FileType = file_type("image/webp", "webp", Family::Image);
const MP3: FileType = file_type("audio/mpeg", "mp3", Family::Audio);
const AAC: FileType = file_type("audio/aac", "aac", Family::Audio);
const M4A: FileType = file_type("audio/mp4", "m4a", Family::Audio);
const OGG: FileType = file_type("audio/ogg", "ogg", Family::Audio);
const FLAC: FileType = file_type("audio/flac", "flac", Family::Audio);
const WAV: FileType = file_type("audio/wav", "wav", Family::Audio);
const MP4: FileType = file_type("video/mp4", "mp4", Family::Video);
const QUICKTIME: FileType = file_type("video/quicktime", "mov", Family::Video);
const WEBM: FileType = file_type("video/webm", "webm", Family::Video);
const MATROSKA: FileType = file_type("video/x-matroska", "mkv", Family::Video);
const ZIP: FileType = file_type("application/zip", "zip", Family::Archive);

/// Every allowed type.
pub const ALLOWED: [FileType; 16] = [
    PDF, PNG, JPEG, GIF, WEBP, MP3, AAC, M4A, OGG, FLAC, WAV, MP4, QUICKTIME, WEBM, MATROSKA, ZIP,
];

/// The allowed type `head` (a file's first bytes, up to [`SNIFF_BYTES`])
/// starts like, if any.
pub fn sniff(head: &[u8]) -> Option<FileType> {
    let at = |offset: usize, magic: &[u8]| head.get(offset..offset + magic.len()) == Some(magic);
    if at(0, b"%PDF-") {
        Some(PDF)
    } else if at(0, b"\x89PNG\r\n\x1a\n") {
        Some(PNG)
    } else if at(0, b"\xff\xd8\xff") {
        Some(JPEG)
    } else if at(0, b"GIF87a") || at(0, b"GIF89a") {
        Some(GIF)
    } else if at(0, b"RIFF") && at(8, b"WEBP") {
        Some(WEBP)
    } else if at(0, b"RIFF") && at(8, b"WAVE") {
        Some(WAV)
    } else if at(0, b"OggS") {
        Some(OGG)
    } else if at(0, b"fLaC") {
        Some(FLAC)
    } else if at(0, b"ID3") {
        Some(MP3)
    } else if at(4, b"ftyp") {
        iso_media(head.get(8..12)?)
    } else if at(0, b"\x1a\x45\xdf\xa3") {
        Some(if head.windows(4).any(|w| w == b"webm") {
            WEBM
        } else {
            MATROSKA
        })
    } else if at(0, b"PK\x03\x04") || at(0, b"PK\x05\x06") {
        Some(ZIP)
    } else {
        mpeg_audio(head)
    }
}

/// An ISO base media file (MP4 and kin) by its major brand.
fn iso_media(brand: &[u8]) -> Option<FileType> {
    match brand {
        b"M4A " | b"M4B " => Some(M4A),
        b"qt  " => Some(QUICKTIME),
        b"isom" | b"iso2" | b"iso4" | b"iso5" | b"iso6" | b"mp41" | b"mp42" | b"avc1" | b"M4V "
        | b"dash" | b"MSNV" => Some(MP4),
        _ => None,
    }
}

/// An MPEG audio frame header without a tag: MP3 (layers I to III) or ADTS AAC.
fn mpeg_audio(head: &[u8]) -> Option<FileType> {
    let [0xff, second, ..] = *head else {
        return None;
    };
    if second & 0xf6 == 0xf0 {
        return Some(AAC);
    }
    let layer = (second >> 1) & 0b11;
    (second & 0xe0 == 0xe0 && layer != 0 && (second >> 3) & 0b11 != 0b01).then_some(MP3)
}

/// The allowed type with `media_type`, if any (for files stored earlier).
pub fn by_media_type(media_type: &str) -> Option<FileType> {
    ALLOWED.into_iter().find(|t| t.media_type == media_type)
}

/// Whether a file of `file` may be the main file of content of `kind`:
/// videos are videos, audio is audio, images are images, documents and
/// articles are PDFs; courses and templates may be any allowed type.
pub fn fits_content(kind: ContentType, file: FileType) -> bool {
    match kind {
        ContentType::Video => file.family == Family::Video,
        ContentType::Audio => file.family == Family::Audio,
        ContentType::Image => file.family == Family::Image,
        ContentType::Document | ContentType::Article => file.family == Family::Document,
        ContentType::Course | ContentType::Template => true,
    }
}

/// Whether a file of `file` may be a preview (anything one can look at or
/// listen to: not an archive).
pub fn fits_preview(file: FileType) -> bool {
    file.family != Family::Archive
}

#[cfg(test)]
mod tests {
    use super::*;

    fn media(head: &[u8]) -> Option<&'static str> {
        sniff(head).map(|t| t.media_type)
    }

    #[test]
    fn each_allowed_type_is_known_by_its_bytes() {
        assert_eq!(media(b"%PDF-1.7\n"), Some("application/pdf"));
        assert_eq!(media(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some("image/png"));
        assert_eq!(media(b"\xff\xd8\xff\xe0\0\x10JFIF"), Some("image/jpeg"));
        assert_eq!(media(b"GIF89a\x01\0"), Some("image/gif"));
        assert_eq!(media(b"RIFF\x24\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(media(b"RIFF\x24\0\0\0WAVEfmt "), Some("audio/wav"));
        assert_eq!(media(b"ID3\x04\0\0\0\0\0\0"), Some("audio/mpeg"));
        assert_eq!(media(b"\xff\xfb\x90\x64"), Some("audio/mpeg"));
        assert_eq!(media(b"\xff\xf1\x50\x80"), Some("audio/aac"));
        assert_eq!(media(b"OggS\0\x02"), Some("audio/ogg"));
        assert_eq!(media(b"fLaC\0\0\0\x22"), Some("audio/flac"));
        assert_eq!(media(b"\0\0\0\x20ftypisom\0\0\x02\0"), Some("video/mp4"));
        assert_eq!(media(b"\0\0\0\x20ftypM4A \0\0\0\0"), Some("audio/mp4"));
        assert_eq!(
            media(b"\0\0\0\x14ftypqt  \0\0\0\0"),
            Some("video/quicktime")
        );
        assert_eq!(
            media(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm"),
            Some("video/webm")
        );
        assert_eq!(
            media(b"\x1a\x45\xdf\xa3\x42\x82\x88matroska"),
            Some("video/x-matroska")
        );
        assert_eq!(media(b"PK\x03\x04\x14\0"), Some("application/zip"));
    }

    #[test]
    fn anything_else_is_refused() {
        for head in [
            &b""[..],
            b"%PD",
            b"<html><script>alert(1)</script>",
            b"#!/bin/sh\nrm -rf /",
            b"MZ\x90\0\x03\0",
            b"\x7fELF\x02\x01",
            b"\0\0\0\x20ftypheic\0\0",
            b"\xff\xd9",
            b"RIFF\x24\0\0\0AVI LIST",
        ] {
            assert_eq!(media(head), None, "{head:?}");
        }
    }

    #[test]
    fn files_fit_their_content() {
        let pdf = sniff(b"%PDF-1.4").expect("pdf");
        let mp4 = sniff(b"\0\0\0\x20ftypisom").expect("mp4");
        let zip = sniff(b"PK\x03\x04").expect("zip");
        assert!(fits_content(ContentType::Document, pdf));
        assert!(!fits_content(ContentType::Video, pdf));
        assert!(fits_content(ContentType::Video, mp4));
        assert!(fits_content(ContentType::Course, zip));
        assert!(!fits_content(ContentType::Image, zip));
        assert!(fits_preview(mp4) && !fits_preview(zip));
        assert_eq!(by_media_type("video/mp4"), Some(mp4));
    }
}

//! What the image element needs from an image: its format number and size, and the large
//! (shorter side 720 px) and thumbnail (shorter side 198 px) renditions the SDK describes.

use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, ImageFormat, ImageReader};

pub const LARGE_SHORT_SIDE: u32 = 720;
pub const THUMB_SHORT_SIDE: u32 = 198;

/// The `image_elem_format` number of a format: 1 JPG, 2 GIF, 3 PNG, 4 BMP, 0xff unknown.
pub fn format_number(f: ImageFormat) -> i64 {
    match f {
        ImageFormat::Jpeg => 1,
        ImageFormat::Gif => 2,
        ImageFormat::Png => 3,
        ImageFormat::Bmp => 4,
        _ => 0xff,
    }
}

/// A decoded image.
pub struct Decoded {
    pub image: DynamicImage,
    pub format: ImageFormat,
}

/// Decodes the file at `path`; `None` if it is not an image of a supported format.
pub fn decode(path: &Path) -> Option<Decoded> {
    decode_bounded(path, u64::MAX).ok()
}

/// Why an image was not decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeRefusal {
    NotAnImage,
    /// Its header says `width × height`, more pixels than the bound: refused before a pixel is
    /// decoded (a 420 KB PNG can claim 12000 × 12000, which decodes to 432 MB).
    TooManyPixels {
        width: u32,
        height: u32,
    },
}

/// Decodes an image of at most `max_pixels` pixels; the size is read from its header first.
pub fn decode_bounded(path: &Path, max_pixels: u64) -> Result<Decoded, DecodeRefusal> {
    let open = || ImageReader::open(path).ok()?.with_guessed_format().ok();
    let header = open().ok_or(DecodeRefusal::NotAnImage)?;
    let format = header.format().ok_or(DecodeRefusal::NotAnImage)?;
    let (width, height) = header.into_dimensions().map_err(|_| DecodeRefusal::NotAnImage)?;
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(DecodeRefusal::TooManyPixels { width, height });
    }
    let image = open().ok_or(DecodeRefusal::NotAnImage)?.decode().map_err(|_| DecodeRefusal::NotAnImage)?;
    Ok(Decoded { image, format })
}

/// The image scaled so its shorter side is `short_side`, or `None` if it is not bigger.
pub fn scaled(image: &DynamicImage, short_side: u32) -> Option<DynamicImage> {
    let (w, h) = (image.width(), image.height());
    let shorter = w.min(h);
    if shorter <= short_side {
        return None;
    }
    let (nw, nh) = if w <= h {
        (short_side, ((u64::from(h) * u64::from(short_side)) / u64::from(w)).max(1) as u32)
    } else {
        (((u64::from(w) * u64::from(short_side)) / u64::from(h)).max(1) as u32, short_side)
    };
    Some(image.thumbnail_exact(nw, nh))
}

/// Encodes a rendition: JPEG stays JPEG, everything else becomes PNG.
pub fn encode(image: &DynamicImage, original: ImageFormat) -> Option<Vec<u8>> {
    let mut out = Cursor::new(Vec::new());
    let format = if original == ImageFormat::Jpeg { ImageFormat::Jpeg } else { ImageFormat::Png };
    let image = if format == ImageFormat::Jpeg { DynamicImage::ImageRgb8(image.to_rgb8()) } else { image.clone() };
    image.write_to(&mut out, format).ok()?;
    Some(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorter_side_rules() {
        let img = DynamicImage::new_rgb8(1000, 2000);
        let large = scaled(&img, LARGE_SHORT_SIDE).unwrap();
        assert_eq!((large.width(), large.height()), (720, 1440));
        let thumb = scaled(&img, THUMB_SHORT_SIDE).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (198, 396));
        assert!(scaled(&DynamicImage::new_rgb8(500, 300), LARGE_SHORT_SIDE).is_none());
    }
}

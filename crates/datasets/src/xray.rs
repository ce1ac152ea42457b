//! One X-ray-like image: its size, its anatomy, its pixels, its JPEG bytes.
//!
//! The picture is built from smooth shapes in "width units" (x from -0.5 to 0.5 across the
//! image, y the same scale, 0 at the centre): a bright torso, two dark lung fields, a heart
//! shadow, rib arcs, a spine, a soft texture in the lungs, vignetting, and a few grey levels of
//! per-pixel noise. Everything that depends on one coordinate only is computed once per row or
//! per column, so the inner loop is a handful of multiply-adds and no trigonometry.
//!
//! **Stability**: the parameters are drawn from [`SplitMix64::for_item`] in a fixed order.
//! Reordering or adding draws changes every image; bump the set version (`-v1`) when you do.

use crate::JPEG_QUALITY;
use crate::error::DatasetError;
use crate::rng::SplitMix64;
use image::ExtendedColorType;
use image::codecs::jpeg::JpegEncoder;
use std::path::PathBuf;

/// A generated image before encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XrayImage {
    pub name: String,
    pub width: u32,
    pub height: u32,
    /// 1 (grayscale, `L8`) or 3 (`Rgb8`, the gray value in every channel).
    pub channels: u8,
    /// Row-major, `width * height * channels` bytes.
    pub pixels: Vec<u8>,
}

/// The file name of image `index`, in the style of the Kaggle set: `IM-0001-0001.jpeg`, and
/// every third one `NORMAL2-IM-0003-0001.jpeg`. Unique per index.
pub fn xray_file_name(index: usize) -> String {
    let n = index + 1;
    if index % 3 == 2 {
        format!("NORMAL2-IM-{n:04}-0001.jpeg")
    } else {
        format!("IM-{n:04}-0001.jpeg")
    }
}

/// Whether image `index` is stored as RGB: one in forty (17, 57, 97, ...), like the few RGB
/// files of the real set.
pub fn is_rgb(index: usize) -> bool {
    index % 40 == 17
}

/// Image `index` of the set made with `seed`: depends on nothing else.
pub fn xray_image(seed: u64, index: usize) -> XrayImage {
    let mut rng = SplitMix64::for_item(seed, index as u64);
    let width = rng.range_u32(1000, 2500);
    let aspect = rng.range_f64(1.0, 1.35);
    let height = (f64::from(width) * aspect).round() as u32;
    let anatomy = Anatomy::draw(&mut rng);
    let gray = render(&anatomy, &mut rng, width, height);
    let channels = if is_rgb(index) { 3 } else { 1 };
    let pixels = if channels == 3 {
        gray.iter().flat_map(|&g| [g, g, g]).collect()
    } else {
        gray
    };
    XrayImage {
        name: xray_file_name(index),
        width,
        height,
        channels,
        pixels,
    }
}

/// Image `index` of the set made with `seed`, as baseline JPEG bytes (quality 90).
pub fn xray_jpeg(seed: u64, index: usize) -> Result<Vec<u8>, DatasetError> {
    let image = xray_image(seed, index);
    encode_jpeg(&image)
}

/// Baseline JPEG at [`JPEG_QUALITY`].
pub(crate) fn encode_jpeg(image: &XrayImage) -> Result<Vec<u8>, DatasetError> {
    let mut out = Vec::with_capacity(image.pixels.len() / 8);
    let color = if image.channels == 3 {
        ExtendedColorType::Rgb8
    } else {
        ExtendedColorType::L8
    };
    JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
        .encode(&image.pixels, image.width, image.height, color)
        .map_err(|source| DatasetError::Encode {
            path: PathBuf::from(&image.name),
            source,
        })?;
    Ok(out)
}

/// A small grayscale JPEG of the same kind (for the hostile files).
pub(crate) fn small_jpeg(seed: u64, width: u32, height: u32) -> Result<Vec<u8>, DatasetError> {
    let mut rng = SplitMix64::for_item(seed, u64::MAX);
    let anatomy = Anatomy::draw(&mut rng);
    let pixels = render(&anatomy, &mut rng, width, height);
    encode_jpeg(&XrayImage {
        name: "small.jpeg".into(),
        width,
        height,
        channels: 1,
        pixels,
    })
}

/// An ellipse `((x - cx) / ax)^2 + ((y - cy) / ay)^2 < 1`, in width units.
#[derive(Debug, Clone, Copy)]
struct Ellipse {
    cx: f32,
    cy: f32,
    ax: f32,
    ay: f32,
}

impl Ellipse {
    fn draw(
        rng: &mut SplitMix64,
        cx: (f64, f64),
        cy: (f64, f64),
        ax: (f64, f64),
        ay: (f64, f64),
    ) -> Ellipse {
        Ellipse {
            cx: rng.range_f64(cx.0, cx.1) as f32,
            cy: rng.range_f64(cy.0, cy.1) as f32,
            ax: rng.range_f64(ax.0, ax.1) as f32,
            ay: rng.range_f64(ay.0, ay.1) as f32,
        }
    }
}

/// The per-image shape and tone parameters.
#[derive(Debug, Clone)]
struct Anatomy {
    torso: Ellipse,
    /// How much wider the torso is at the shoulders (fraction).
    shoulders: f32,
    /// Viewer's left and right lung.
    lungs: [Ellipse; 2],
    heart: Ellipse,
    rib_period: f32,
    rib_curve: f32,
    rib_phase: f32,
    rib_amp: f32,
    /// How far ribs drop per unit of distance from the midline.
    rib_slope: f32,
    clavicle_y: f32,
    clavicle_slope: f32,
    spine_width: f32,
    background: f32,
    tissue: f32,
    lung_dark: f32,
    texture_amp: f32,
    vignette: f32,
    noise: f32,
}

impl Anatomy {
    fn draw(rng: &mut SplitMix64) -> Anatomy {
        let torso = Ellipse::draw(rng, (-0.02, 0.02), (0.10, 0.20), (0.40, 0.47), (0.75, 0.90));
        let shoulders = rng.range_f64(0.04, 0.12) as f32;
        let left = Ellipse::draw(
            rng,
            (-0.21, -0.16),
            (-0.06, 0.02),
            (0.12, 0.15),
            (0.26, 0.32),
        );
        let right = Ellipse::draw(rng, (0.16, 0.21), (-0.06, 0.02), (0.12, 0.15), (0.26, 0.32));
        let heart = Ellipse::draw(rng, (0.04, 0.08), (0.19, 0.25), (0.18, 0.22), (0.12, 0.16));
        Anatomy {
            torso,
            shoulders,
            lungs: [left, right],
            heart,
            rib_period: rng.range_f64(0.06, 0.08) as f32,
            rib_curve: rng.range_f64(3.5, 5.5) as f32,
            rib_phase: rng.range_f64(0.0, 1.0) as f32,
            rib_amp: rng.range_f64(14.0, 22.0) as f32,
            rib_slope: rng.range_f64(0.15, 0.35) as f32,
            clavicle_y: rng.range_f64(-0.36, -0.30) as f32,
            clavicle_slope: rng.range_f64(-0.3, -0.15) as f32,
            spine_width: rng.range_f64(0.03, 0.04) as f32,
            background: rng.range_f64(8.0, 30.0) as f32,
            tissue: rng.range_f64(150.0, 195.0) as f32,
            lung_dark: rng.range_f64(70.0, 105.0) as f32,
            texture_amp: rng.range_f64(10.0, 18.0) as f32,
            vignette: rng.range_f64(0.15, 0.30) as f32,
            noise: rng.range_f64(1.5, 2.5) as f32,
        }
    }
}

/// `x * x`. Only + - * / and comparisons touch the pixels: IEEE makes those exact everywhere,
/// while `exp`, `powf` and the like come from the platform's libm and may differ in the last bit.
trait Square {
    fn sq(self) -> Self;
}

impl Square for f32 {
    #[inline(always)]
    fn sq(self) -> f32 {
        self * self
    }
}

/// A bell without `exp`: 1 at 0, 0 from |t| = 2 on, smooth (like `exp(-t^2)` in shape).
#[inline(always)]
fn bump(t: f32) -> f32 {
    let s = (1.0 - t * t * 0.25).max(0.0);
    s * s * s
}

/// 0 outside (`d >= 1.12`), 1 inside (`d <= 0.88`), smooth between.
#[inline(always)]
fn inside(d: f32) -> f32 {
    let t = ((1.12 - d) * (1.0 / 0.24)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// Smooth random field on a grid with `cells` cells across the width: the lungs' texture.
struct ValueNoise {
    cell: f32,
    cols: usize,
    grid: Vec<f32>,
    /// Per image column: the grid column left of it and the (smoothed) weight of the right one.
    col_index: Vec<usize>,
    col_weight: Vec<f32>,
    /// Scratch: the grid row interpolated to the current image row.
    line: Vec<f32>,
}

impl ValueNoise {
    fn new(rng: &mut SplitMix64, cells: usize, width: u32, height: u32) -> ValueNoise {
        let cell = width as f32 / cells as f32;
        let cols = cells + 2;
        let rows = (height as f32 / cell) as usize + 2;
        let grid = (0..cols * rows)
            .map(|_| rng.next_f64() as f32 * 2.0 - 1.0)
            .collect();
        let (col_index, col_weight) = (0..width)
            .map(|x| {
                let gx = x as f32 / cell;
                let c = gx as usize;
                let f = gx - c as f32;
                // Smoothstep the weight: no visible grid lines.
                (c.min(cols - 2), f * f * (3.0 - 2.0 * f))
            })
            .unzip();
        ValueNoise {
            cell,
            cols,
            grid,
            col_index,
            col_weight,
            line: vec![0.0; cols],
        }
    }

    /// Row `y` of the field times `amp`, added into `out` (one value per image column).
    fn add_row(&mut self, y: u32, amp: f32, out: &mut [f32]) {
        let gy = y as f32 / self.cell;
        let r = (gy as usize).min(self.grid.len() / self.cols - 2);
        let fy = gy - r as f32;
        let top = &self.grid[r * self.cols..(r + 1) * self.cols];
        let bottom = &self.grid[(r + 1) * self.cols..(r + 2) * self.cols];
        for ((l, a), b) in self.line.iter_mut().zip(top).zip(bottom) {
            *l = amp * (a + (b - a) * fy);
        }
        let line = &self.line;
        for ((o, &c), &f) in out.iter_mut().zip(&self.col_index).zip(&self.col_weight) {
            *o += line[c] + (line[c + 1] - line[c]) * f;
        }
    }
}

/// Everything that depends on the column only, computed once per image.
struct Columns {
    torso_dx2: Vec<f32>,
    /// 0 on the left lung's side, 1 on the right's.
    lung_side: Vec<f32>,
    lung_x: Vec<f32>,
    heart_x: Vec<f32>,
    rib_x: Vec<f32>,
    clavicle_x: Vec<f32>,
    spine_x: Vec<f32>,
    vignette_x: Vec<f32>,
}

impl Columns {
    fn new(a: &Anatomy, width: u32) -> Columns {
        let w = width as usize;
        let mut c = Columns {
            torso_dx2: Vec::with_capacity(w),
            lung_side: Vec::with_capacity(w),
            lung_x: Vec::with_capacity(w),
            heart_x: Vec::with_capacity(w),
            rib_x: Vec::with_capacity(w),
            clavicle_x: Vec::with_capacity(w),
            spine_x: Vec::with_capacity(w),
            vignette_x: Vec::with_capacity(w),
        };
        let middle = (a.lungs[0].cx + a.lungs[1].cx) * 0.5;
        for x in 0..w {
            let u = (x as f32 + 0.5) / width as f32 - 0.5;
            let dx = u - a.torso.cx;
            c.torso_dx2.push(dx * dx);
            let side = usize::from(u > middle);
            let l = a.lungs[side];
            c.lung_side.push(side as f32);
            c.lung_x.push(((u - l.cx) / l.ax).sq());
            c.heart_x.push(((u - a.heart.cx) / a.heart.ax).sq());
            // Arcs with their top over each lung's middle, dropping towards the sides.
            let dl = u - l.cx;
            c.rib_x
                .push(-(a.rib_curve * dl * dl + a.rib_slope * dx.abs()) / a.rib_period);
            // Clavicles: straight bands from near the midline out and up; far away elsewhere.
            let reach = dx.abs();
            c.clavicle_x.push(if (0.04..0.36).contains(&reach) {
                a.clavicle_y + a.clavicle_slope * reach
            } else {
                -10.0
            });
            c.spine_x.push(bump(dx / a.spine_width));
            c.vignette_x.push(1.0 - a.vignette * (2.0 * u).sq());
        }
        c
    }
}

/// Ribs are bands where `s` (per row + per column) is near an integer. `s` stays within
/// about -60..20, so adding this before truncating makes `as i32` a floor without calling
/// `floorf` (x86-64's baseline has no floor instruction, and a call stops vectorisation).
const RIB_OFFSET: f32 = 1024.0;

/// Grayscale pixels of `anatomy` at `width` x `height`; the noise comes from `rng`.
fn render(a: &Anatomy, rng: &mut SplitMix64, width: u32, height: u32) -> Vec<u8> {
    let w = width as usize;
    let half_height = height as f32 * 0.5 / width as f32;
    let cols = Columns::new(a, width);

    let mut texture_fine = ValueNoise::new(rng, 64, width, height);
    let mut texture_coarse = ValueNoise::new(rng, 20, width, height);
    // Cheap triangular noise: one random byte per pixel through a table, in grey levels.
    let noise_table: Vec<f32> = (0..256u32)
        .map(|b| ((b & 15) + (b >> 4)) as f32 - 15.0)
        .map(|n| n * a.noise / 5.0)
        .collect();
    let lungs_bottom = a.lungs[0].cy.max(a.lungs[1].cy) + a.lungs[0].ay.max(a.lungs[1].ay);

    let mut pixels = vec![0u8; w * height as usize];
    let mut texture = vec![0.0f32; w];
    let mut noise = vec![0.0f32; w];
    for (y, row) in (0..height).zip(pixels.chunks_exact_mut(w)) {
        let v = (y as f32 + 0.5) / width as f32 - half_height;
        // Per-row terms.
        let ty = (v - a.torso.cy) / a.torso.ay;
        let torso_y = ty * ty;
        let shoulder = 1.0 + a.shoulders * bump((v + 0.35) / 0.15);
        let torso_inv_ax2 = 1.0 / (a.torso.ax * shoulder).sq();
        let [lung_left, lung_right] = a.lungs.map(|l| ((v - l.cy) / l.ay).sq());
        let lung_step = lung_right - lung_left;
        let heart_y = ((v - a.heart.cy) / a.heart.ay).sq();
        let rib_y = v / a.rib_period + a.rib_phase + RIB_OFFSET;
        // Ribs end a little below the lungs.
        let rib_fade = ((lungs_bottom + 0.06 - v) / 0.08).clamp(0.0, 1.0) * a.rib_amp;
        // Vertebrae: the spine brightens and darkens every ~rib period.
        let vertebra = {
            let t = v / a.rib_period * 0.9 + RIB_OFFSET;
            let f = t - (t as i32) as f32;
            45.0 * (0.75 + 0.5 * (2.0 * f - 1.0).abs())
        };
        let vignette_y = 1.0 - a.vignette * 0.6 * (v / half_height).sq();

        texture.fill(0.0);
        texture_fine.add_row(y, 0.4 * a.texture_amp, &mut texture);
        texture_coarse.add_row(y, 0.6 * a.texture_amp, &mut texture);
        for chunk in noise.chunks_mut(8) {
            let mut bits = rng.next_u64();
            for n in chunk {
                *n = noise_table[(bits & 0xFF) as usize] + 0.5;
                bits >>= 8;
            }
        }

        // Same-length slices let the compiler drop the bounds checks.
        let (torso_dx2, lung_side, lung_x) = (
            &cols.torso_dx2[..w],
            &cols.lung_side[..w],
            &cols.lung_x[..w],
        );
        let (heart_x, rib_x, clavicle_x) =
            (&cols.heart_x[..w], &cols.rib_x[..w], &cols.clavicle_x[..w]);
        let (spine_x, vignette_x) = (&cols.spine_x[..w], &cols.vignette_x[..w]);
        let (texture, noise, row) = (&texture[..w], &noise[..w], &mut row[..w]);
        for x in 0..w {
            let body = inside(torso_dx2[x] * torso_inv_ax2 + torso_y);
            let lung = inside(lung_x[x] + lung_left + lung_side[x] * lung_step);
            let heart = inside(heart_x[x] + heart_y);
            let s = rib_x[x] + rib_y;
            let f = s - (s as i32) as f32;
            let band = (((2.0 * f - 1.0).abs() - 0.55) * 5.0).clamp(0.0, 1.0);
            let ribs = rib_fade * band * (0.35 + 0.65 * lung);
            let c = (v - clavicle_x[x]) * (1.0 / 0.02);
            let clavicle = (1.0 - c * c).max(0.0);
            let air = lung * (1.0 - 0.85 * heart);
            let inner = a.tissue - a.lung_dark * air
                + texture[x] * air
                + ribs
                + 22.0 * clavicle
                + vertebra * spine_x[x] * (1.0 - 0.5 * lung);
            let value = (a.background + body * (inner - a.background)) * vignette_x[x] * vignette_y;
            // `as` saturates: below 0 is 0, above 255 is 255.
            row[x] = (value + noise[x]) as u8;
        }
    }
    pixels
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::fnv1a64;

    #[test]
    fn names_follow_the_kaggle_style_and_are_unique() {
        assert_eq!(xray_file_name(0), "IM-0001-0001.jpeg");
        assert_eq!(xray_file_name(2), "NORMAL2-IM-0003-0001.jpeg");
        let names: std::collections::HashSet<_> = (0..1341).map(xray_file_name).collect();
        assert_eq!(names.len(), 1341);
    }

    #[test]
    fn rgb_rule_gives_a_few() {
        let rgb = (0..1341).filter(|&i| is_rgb(i)).count();
        assert_eq!(rgb, 34);
        assert!((0..80).any(is_rgb));
    }

    #[test]
    fn pixels_are_pinned() {
        // Guards "the same (seed, index) gives the same pixels forever".
        let mut rng = SplitMix64::for_item(7, 3);
        let anatomy = Anatomy::draw(&mut rng);
        let pixels = render(&anatomy, &mut rng, 96, 120);
        assert_eq!(fnv1a64(&pixels), 13_799_384_356_308_367_525);
    }

    #[test]
    fn looks_like_a_chest() {
        let mut rng = SplitMix64::for_item(DEFAULT_SEED_FOR_TEST, 0);
        let anatomy = Anatomy::draw(&mut rng);
        let (w, h) = (200u32, 240u32);
        let p = render(&anatomy, &mut rng, w, h);
        let at = |x: f32, y: f32| {
            let (x, y) = ((x * w as f32) as usize, (y * h as f32) as usize);
            p[y * w as usize + x]
        };
        let mean = |x0: f32, y0: f32| {
            let mut sum = 0u32;
            for dy in 0..5 {
                for dx in 0..5 {
                    sum += u32::from(at(x0 + dx as f32 * 0.004, y0 + dy as f32 * 0.004));
                }
            }
            sum / 25
        };
        let corner = mean(0.0, 0.0);
        let lung = mean(0.27, 0.45);
        let spine = mean(0.49, 0.3);
        assert!(corner < 40, "corner {corner}");
        assert!(lung > corner && lung < spine, "lung {lung} spine {spine}");
    }

    const DEFAULT_SEED_FOR_TEST: u64 = crate::DEFAULT_SEED;
}

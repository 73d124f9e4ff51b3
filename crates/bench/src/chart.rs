//! The benchmark table as an SVG chart: per-workload times of every
//! configuration (log scale, one bar each) and the ratios the table gives.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// One configuration's milliseconds, by workload in table order.
pub struct Series<'a> {
    pub title: &'a str,
    pub ms: Vec<u64>,
}

/// Bar colours, one per configuration.
const COLOURS: [RGBColor; 6] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
];

/// Draws `times` (and `ratios`, as series of quotients) for `workloads` into
/// the SVG file `out`.
pub fn draw(
    out: &Path,
    workloads: &[String],
    times: &[Series],
    ratios: &[(String, Vec<f64>)],
) -> Result<(), String> {
    let rows = workloads.len();
    let height = 120 + rows as u32 * 12 * (times.len().max(ratios.len()) as u32 + 1);
    let root = SVGBackend::new(out, (1100, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let (left, right) = root.split_horizontally(620);
    let max_ms = times.iter().flat_map(|s| s.ms.iter().copied()).max().unwrap_or(1).max(10) as f64;
    bars(
        &left,
        "milliseconds (log scale; shorter is faster)",
        workloads,
        (1.0, max_ms * 2.0),
        &times
            .iter()
            .map(|s| (s.title.to_string(), s.ms.iter().map(|&m| m.max(1) as f64).collect()))
            .collect::<Vec<_>>(),
        None,
    )?;
    if !ratios.is_empty() {
        let lo = ratios.iter().flat_map(|(_, v)| v.iter().copied()).fold(1.0f64, f64::min);
        let hi = ratios.iter().flat_map(|(_, v)| v.iter().copied()).fold(1.0f64, f64::max);
        let caption = "ratios (log scale; below 1: the first is faster)";
        bars(&right, caption, workloads, (lo / 1.5, hi * 1.5), ratios, Some(1.0))?;
    }
    root.present().map_err(|e| e.to_string())
}

/// Horizontal grouped bars on a log axis: one group a workload, one bar a
/// series; `mark` draws a vertical line at that value.
fn bars<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    caption: &str,
    workloads: &[String],
    (lo, hi): (f64, f64),
    series: &[(String, Vec<f64>)],
    mark: Option<f64>,
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let rows = workloads.len() as f64;
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(110)
        // Room below the last group for the legend.
        .build_cartesian_2d((lo..hi).log_scale(), rows + 0.3 * series.len() as f64 + 0.3..0.0)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_label_formatter(&|x| format!("{x:.3}").trim_end_matches('0').trim_end_matches('.').to_string())
        .draw()
        .map_err(err)?;
    // Each group's name, left of the axis at the group's middle.
    let base = area.get_base_pixel();
    let style = TextStyle::from(("sans-serif", 13).into_font()).pos(Pos::new(HPos::Right, VPos::Center));
    for (k, w) in workloads.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(lo, k as f64 + 0.5));
        area.draw(&Text::new(w.clone(), (x - base.0 - 8, y - base.1), style.clone())).map_err(err)?;
    }
    let n = series.len() as f64;
    for (s, (title, values)) in series.iter().enumerate() {
        let colour = COLOURS[s % COLOURS.len()];
        chart
            .draw_series(values.iter().enumerate().map(|(k, &v)| {
                let top = k as f64 + 0.1 + 0.8 * s as f64 / n;
                Rectangle::new([(lo, top), (v.max(lo), top + 0.8 / n)], colour.filled())
            }))
            .map_err(err)?
            .label(title.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], colour.filled()));
    }
    if let Some(x) = mark {
        chart.draw_series(LineSeries::new([(x, 0.0), (x, rows)], BLACK.stroke_width(2))).map_err(err)?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::LowerRight)
        .draw()
        .map_err(err)
}

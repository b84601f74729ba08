//! The JSON report (`schemas/reports/check-report.schema.json`).

use super::report::Report;

/// Writes the report as pretty JSON with a closing newline.
pub fn render(report: &Report, out: &mut impl std::io::Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    out.write_all(b"\n")
}

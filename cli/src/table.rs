//! Tables in the layout Kafka's tools print with `String.format` column strings such as
//! `"%-15s %-10s %s"` (kafka-consumer-groups' `--describe`, `--list --state`, `--reset-offsets`,
//! `--delete-offsets`): every cell left-aligned, padded with spaces to its column's width, one
//! space between columns, nothing else.
//!
//! The lines are laid out by comfy-table (preset `NOTHING`, a `' '` vertical line as the column
//! separator, no cell padding, each column's width as a `LowerBoundary` constraint). Two things
//! of Java's format strings comfy-table cannot express for a whole table, so each line is laid out
//! as a one-row table of its own:
//! - `%-Ns` with a fixed N pads each line on its own: a cell longer than N pushes the rest of
//!   *its* line to the right and leaves the other lines alone, where comfy-table would widen the
//!   whole column ([`Width::Fixed`]).
//! - `%s` does not pad at all, so a short last cell leaves no trailing spaces
//!   ([`Width::Unpadded`]), where comfy-table pads every cell of a column to the same width.
//!
//! Widths are counted by comfy-table in terminal columns; for the ASCII names the tools print
//! (topic names are ASCII by Kafka's rules) that is Java's `String.length()`.

use comfy_table::{presets, ColumnConstraint, ContentArrangement, Table, TableComponent};

/// The width of a column, in the words of the Java format conversion it stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    /// `%-Ns` with N = the larger of `min` and the longest cell of the column's rows (the header
    /// not counted): the widths Kafka computes from the data, e.g. `max(15, longest group id)`.
    AtLeast(usize),
    /// `%-Ns` with this N: a longer cell is printed whole and shifts only its own line.
    Fixed(usize),
    /// `%s`: the cell as it is. Kafka uses it for the last column of a line.
    Unpadded,
}

/// A column: its header and its width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column<'a> {
    pub header: &'a str,
    pub width: Width,
}

impl<'a> Column<'a> {
    pub const fn new(header: &'a str, width: Width) -> Self {
        Column { header, width }
    }
}

/// The header line, then one line per row, each ending in `\n`. A row with fewer cells than
/// there are columns is completed with empty cells; cells beyond the last column are ignored.
pub fn kafka_table<S: AsRef<str>>(columns: &[Column<'_>], rows: &[Vec<S>]) -> String {
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, column)| match column.width {
            Width::AtLeast(min) => rows
                .iter()
                .filter_map(|row| row.get(i))
                .map(|cell| cell.as_ref().chars().count())
                .fold(min, usize::max),
            Width::Fixed(n) => n,
            Width::Unpadded => 0,
        })
        .collect();
    let last_unpadded = columns.last().map(|c| c.width) == Some(Width::Unpadded);
    let mut out = String::new();
    let header: Vec<&str> = columns.iter().map(|c| c.header).collect();
    out.push_str(&line(&header, &widths, last_unpadded));
    for row in rows {
        let cells: Vec<&str> = (0..columns.len())
            .map(|i| row.get(i).map_or("", AsRef::as_ref))
            .collect();
        out.push_str(&line(&cells, &widths, last_unpadded));
    }
    out
}

/// One line, `\n`-terminated: a one-row comfy-table whose columns are at least `widths` wide.
fn line(cells: &[&str], widths: &[usize], last_unpadded: bool) -> String {
    let mut table = Table::new();
    table
        .load_preset(presets::NOTHING)
        .set_style(TableComponent::VerticalLines, ' ')
        .set_content_arrangement(ContentArrangement::Disabled)
        .add_row(cells.to_vec());
    for (column, width) in table.column_iter_mut().zip(widths) {
        column.set_padding((0, 0));
        column.set_constraint(ColumnConstraint::LowerBoundary(comfy_table::Width::Fixed(
            u16::try_from(*width).unwrap_or(u16::MAX),
        )));
    }
    let mut text = table.lines().next().unwrap_or_default();
    // comfy-table makes every column at least one character wide; Java's `%s` of an empty string
    // is nothing, so the space standing for an empty unpadded last cell is dropped.
    if last_unpadded && cells.last().is_some_and(|c| c.is_empty()) {
        text.pop();
    }
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(rows: &[&[&str]]) -> Vec<Vec<String>> {
        rows.iter()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect()
    }

    #[test]
    fn at_least_columns_grow_to_their_widest_cell() {
        let columns = [
            Column::new("GROUP", Width::AtLeast(8)),
            Column::new("ID", Width::Unpadded),
        ];
        assert_eq!(
            kafka_table(&columns, &rows(&[&["g", "1"], &["a-long-group", "2"]])),
            "GROUP        ID\ng            1\na-long-group 2\n"
        );
        assert_eq!(
            kafka_table(&columns, &rows(&[&["g", "1"]])),
            "GROUP    ID\ng        1\n"
        );
    }

    #[test]
    fn a_long_cell_in_a_fixed_column_shifts_only_its_own_line() {
        let columns = [
            Column::new("TOPIC", Width::Fixed(6)),
            Column::new("P", Width::Fixed(3)),
        ];
        assert_eq!(
            kafka_table(&columns, &rows(&[&["t", "0"], &["longtopic", "1"]])),
            "TOPIC  P  \nt      0  \nlongtopic 1  \n"
        );
    }

    #[test]
    fn padded_last_columns_keep_their_trailing_spaces() {
        let columns = [
            Column::new("A", Width::Fixed(3)),
            Column::new("B", Width::Fixed(4)),
        ];
        assert_eq!(
            kafka_table(&columns, &rows(&[&["x", "y"]])),
            "A   B   \nx   y   \n"
        );
    }

    #[test]
    fn an_empty_unpadded_last_cell_prints_nothing() {
        let columns = [
            Column::new("N", Width::Fixed(3)),
            Column::new("", Width::Unpadded),
        ];
        assert_eq!(
            kafka_table(&columns, &rows(&[&["1", ""], &["2", "t(0)"]])),
            "N   \n1   \n2   t(0)\n"
        );
    }

    #[test]
    fn no_rows_is_the_header_alone() {
        let columns = [
            Column::new("GROUP", Width::AtLeast(15)),
            Column::new("STATE", Width::Unpadded),
        ];
        assert_eq!(
            kafka_table::<String>(&columns, &[]),
            "GROUP           STATE\n"
        );
    }

    #[test]
    fn empty_and_missing_cells_are_padded_like_any_other() {
        let columns = [
            Column::new("A", Width::Fixed(2)),
            Column::new("B", Width::AtLeast(2)),
            Column::new("C", Width::Unpadded),
        ];
        assert_eq!(
            kafka_table(&columns, &rows(&[&["", "", "z"], &["x"]])),
            "A  B  C\n      z\nx     \n"
        );
    }

    #[test]
    fn cells_are_not_trimmed() {
        let columns = [
            Column::new("A", Width::Fixed(4)),
            Column::new("B", Width::Unpadded),
        ];
        assert_eq!(
            kafka_table(&columns, &rows(&[&[" x ", "y "]])),
            "A    B\n x   y \n"
        );
    }
}

//! Play Console financial reports (reference section 11), as found in the reports bucket:
//! `earnings/earnings_YYYYMM_<profile>-<n>.zip` and `sales/salesreport_YYYYMM.zip`, each a ZIP
//! holding one CSV. The CSV is UTF-8 or UTF-16 (little or big endian) with a BOM; columns are
//! found by header name (older and newer names both), extra columns are ignored, and a
//! missing required column is an error that names it. Amounts are decimal strings with
//! thousands separators; they become micros.

use std::io::Read;

/// A report that cannot be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReportError {
    #[error("not a ZIP holding a CSV: {0}")]
    Zip(String),
    #[error("not UTF-8 or UTF-16 text: {0}")]
    Encoding(String),
    #[error("required column {0:?} is missing")]
    MissingColumn(&'static str),
    #[error("line {line}: {message}")]
    Row { line: u64, message: String },
}

/// Which report a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    Earnings,
    Sales,
}

impl ReportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::Earnings => "earnings",
            ReportKind::Sales => "sales",
        }
    }
}

/// The kind and month (`YYYY-MM`) of a report object by its name; `None` for other files.
pub fn classify(name: &str) -> Option<(ReportKind, String)> {
    let (kind, rest) = if let Some(r) = name.strip_prefix("earnings/earnings_") {
        (ReportKind::Earnings, r)
    } else if let Some(r) = name.strip_prefix("sales/salesreport_") {
        (ReportKind::Sales, r)
    } else {
        return None;
    };
    if !name.ends_with(".zip") {
        return None;
    }
    let ym = rest.get(..6)?;
    if !ym.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((kind, format!("{}-{}", &ym[..4], &ym[4..])))
}

/// The first CSV inside a ZIP, as text.
pub fn csv_text(zip_bytes: &[u8]) -> Result<String, ReportError> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip_bytes))
        .map_err(|e| ReportError::Zip(e.to_string()))?;
    for i in 0..archive.len() {
        let mut file = archive
            .by_index(i)
            .map_err(|e| ReportError::Zip(e.to_string()))?;
        let is_csv = file
            .name()
            .map(|n| n.to_ascii_lowercase().ends_with(".csv"))
            .unwrap_or(false);
        if !is_csv {
            continue;
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| ReportError::Zip(e.to_string()))?;
        return decode(&bytes);
    }
    Err(ReportError::Zip("no .csv file inside".into()))
}

/// UTF-8 (with or without BOM) or UTF-16 with a BOM.
pub fn decode(bytes: &[u8]) -> Result<String, ReportError> {
    let utf16 = |rest: &[u8], little: bool| {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|p| {
                if little {
                    u16::from_le_bytes([p[0], p[1]])
                } else {
                    u16::from_be_bytes([p[0], p[1]])
                }
            })
            .collect();
        String::from_utf16(&units).map_err(|e| ReportError::Encoding(e.to_string()))
    };
    match bytes {
        [0xFF, 0xFE, rest @ ..] => utf16(rest, true),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, false),
        [0xEF, 0xBB, 0xBF, rest @ ..] => {
            String::from_utf8(rest.to_vec()).map_err(|e| ReportError::Encoding(e.to_string()))
        }
        _ => String::from_utf8(bytes.to_vec()).map_err(|e| ReportError::Encoding(e.to_string())),
    }
}

/// `"1,234.56"` or `-0.50` as micros.
pub fn parse_amount(s: &str) -> Option<i64> {
    let s: String = s.trim().chars().filter(|c| *c != ',').collect();
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s.as_str()),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && frac.is_empty() || frac.len() > 6 {
        return None;
    }
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || !all_digits(frac) {
        return None;
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let frac_micros: i64 = format!("{frac:0<6}").parse().ok()?;
    let micros = whole.checked_mul(1_000_000)?.checked_add(frac_micros)?;
    Some(if neg { -micros } else { micros })
}

/// One row of an earnings report: a money movement of one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarningsRow {
    /// `Description`: the order id.
    pub order_id: String,
    /// `Charge`, `Google fee`, `Tax`, `Charge refund`, `Google fee refund`, `Tax refund`, …
    pub transaction_type: String,
    /// `Full` or `Partial` on refund rows.
    pub refund_type: String,
    pub package: String,
    pub sku: String,
    pub buyer_currency: String,
    pub amount_buyer_micros: i64,
    pub merchant_currency: String,
    pub amount_merchant_micros: i64,
}

/// One row of a sales report: an order event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SalesRow {
    pub order_id: String,
    /// `Charged`, `Refund`, `Partial refund`, …
    pub status: String,
    pub package: String,
    pub sku: String,
    pub currency: String,
    pub item_price_micros: i64,
    pub tax_micros: i64,
    pub charged_micros: i64,
}

/// Column positions by name: the first of `names` present wins.
struct Columns(Vec<String>);

impl Columns {
    fn find(&self, names: &[&'static str]) -> Option<usize> {
        names
            .iter()
            .find_map(|n| self.0.iter().position(|h| h.trim() == *n))
    }
    fn need(&self, names: &[&'static str]) -> Result<usize, ReportError> {
        self.find(names).ok_or(ReportError::MissingColumn(names[0]))
    }
}

/// A CSV's records, each with its line number.
type Records = Vec<Result<(u64, csv::StringRecord), ReportError>>;

fn rows(text: &str) -> Result<(Columns, Records), ReportError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| ReportError::Row {
            line: 1,
            message: e.to_string(),
        })?
        .iter()
        .map(str::to_owned)
        .collect();
    let records = reader
        .into_records()
        .map(|r| {
            r.map(|rec| (rec.position().map_or(0, |p| p.line()), rec))
                .map_err(|e| ReportError::Row {
                    line: e.position().map_or(0, |p| p.line()),
                    message: e.to_string(),
                })
        })
        .collect();
    Ok((Columns(header), records))
}

fn field(rec: &csv::StringRecord, at: Option<usize>) -> String {
    at.and_then(|i| rec.get(i)).unwrap_or("").trim().to_owned()
}

fn amount(rec: &csv::StringRecord, at: usize, line: u64, name: &str) -> Result<i64, ReportError> {
    let raw = rec.get(at).unwrap_or("");
    parse_amount(raw).ok_or_else(|| ReportError::Row {
        line,
        message: format!("{name}: not an amount: {raw:?}"),
    })
}

/// Parses an earnings CSV.
pub fn parse_earnings(text: &str) -> Result<Vec<EarningsRow>, ReportError> {
    let (cols, records) = rows(text)?;
    let order = cols.need(&["Description"])?;
    let kind = cols.need(&["Transaction Type"])?;
    let package = cols.need(&["Product id", "Package ID", "Package Id"])?;
    let buyer_currency = cols.need(&["Buyer Currency"])?;
    let buyer_amount = cols.need(&["Amount (Buyer Currency)"])?;
    let merchant_currency = cols.need(&["Merchant Currency"])?;
    let merchant_amount = cols.need(&["Amount (Merchant Currency)"])?;
    let refund_type = cols.find(&["Refund Type"]);
    let sku = cols.find(&["Sku Id", "SKU ID"]);
    let mut out = Vec::new();
    for r in records {
        let (line, rec) = r?;
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        out.push(EarningsRow {
            order_id: field(&rec, Some(order)),
            transaction_type: field(&rec, Some(kind)),
            refund_type: field(&rec, refund_type),
            package: field(&rec, Some(package)),
            sku: field(&rec, sku),
            buyer_currency: field(&rec, Some(buyer_currency)),
            amount_buyer_micros: amount(&rec, buyer_amount, line, "Amount (Buyer Currency)")?,
            merchant_currency: field(&rec, Some(merchant_currency)),
            amount_merchant_micros: amount(
                &rec,
                merchant_amount,
                line,
                "Amount (Merchant Currency)",
            )?,
        });
    }
    Ok(out)
}

/// Parses a sales CSV.
pub fn parse_sales(text: &str) -> Result<Vec<SalesRow>, ReportError> {
    let (cols, records) = rows(text)?;
    let order = cols.need(&["Order Number"])?;
    let status = cols.need(&["Financial Status"])?;
    let package = cols.need(&["Product ID", "Package ID", "Package Id"])?;
    let currency = cols.need(&["Currency of Sale"])?;
    let price = cols.need(&["Item Price"])?;
    let tax = cols.need(&["Taxes Collected"])?;
    let charged = cols.need(&["Charged Amount"])?;
    let sku = cols.find(&["SKU ID", "Sku Id"]);
    let mut out = Vec::new();
    for r in records {
        let (line, rec) = r?;
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        out.push(SalesRow {
            order_id: field(&rec, Some(order)),
            status: field(&rec, Some(status)),
            package: field(&rec, Some(package)),
            sku: field(&rec, sku),
            currency: field(&rec, Some(currency)),
            item_price_micros: amount(&rec, price, line, "Item Price")?,
            tax_micros: amount(&rec, tax, line, "Taxes Collected")?,
            charged_micros: amount(&rec, charged, line, "Charged Amount")?,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_names_and_encodings() {
        for (s, micros) in [
            ("1,234.56", Some(1_234_560_000)),
            ("-0.5", Some(-500_000)),
            ("12", Some(12_000_000)),
            ("", None),
            ("1.2.3", None),
            ("abc", None),
        ] {
            assert_eq!(parse_amount(s), micros, "{s:?}");
        }
        assert_eq!(
            classify("earnings/earnings_202611_3141-0.zip"),
            Some((ReportKind::Earnings, "2026-11".into()))
        );
        assert_eq!(
            classify("sales/salesreport_202602.zip"),
            Some((ReportKind::Sales, "2026-02".into()))
        );
        assert_eq!(
            classify("stats/installs/installs_x_202611_overview.csv"),
            None
        );
        let text = "Order Number,x\n";
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(decode(&utf16).unwrap(), text);
        let mut bom8 = vec![0xEF, 0xBB, 0xBF];
        bom8.extend(text.as_bytes());
        assert_eq!(decode(&bom8).unwrap(), text);
    }

    #[test]
    fn columns_by_name_renamed_or_extra_and_a_missing_one_named() {
        let renamed = "Order Number,Financial Status,Package ID,Extra,Currency of Sale,Item Price,Taxes Collected,Charged Amount\n\
                       GPA.1,Charged,com.x,?,EUR,\"1,000.00\",190.00,\"1,190.00\"\n";
        let rows = parse_sales(renamed).unwrap();
        assert_eq!(rows[0].package, "com.x");
        assert_eq!(rows[0].charged_micros, 1_190_000_000);
        let missing =
            "Order Number,Financial Status,Product ID,Currency of Sale,Item Price,Charged Amount\n";
        assert_eq!(
            parse_sales(missing),
            Err(ReportError::MissingColumn("Taxes Collected"))
        );
        let bad = "Order Number,Financial Status,Product ID,Currency of Sale,Item Price,Taxes Collected,Charged Amount\nGPA.1,Charged,com.x,EUR,lots,0,0\n";
        let e = parse_sales(bad).unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("Item Price"), "{e}");
    }
}

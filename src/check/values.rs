//! Validators for the scalar formats Infisical's API accepts: `ms` durations, slugs and ISO timestamps.

/// Parses a duration the way the npm `ms` package (2.x) does, returning milliseconds.
///
/// Grammar: `^(-?(?:\d+)?\.?\d+) *(unit)?$`, case-insensitive, at most 100 characters; a bare number is
/// milliseconds; a year is 365.25 days. Compound forms (`1h30m`) and surrounding blanks are rejected.
pub fn parse_ms(text: &str) -> Option<f64> {
    if text.is_empty() || text.len() > 100 {
        return None;
    }
    let bytes = text.as_bytes();
    let mut i = 0;
    if bytes.first() == Some(&b'-') {
        i += 1;
    }
    let number_start = i;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        let fraction_start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == fraction_start {
            return None;
        }
    } else if i == number_start {
        return None;
    }
    let value: f64 = text[..i].parse().ok()?;
    while i < bytes.len() && bytes[i] == b' ' {
        i += 1;
    }
    let unit = text[i..].to_ascii_lowercase();
    const SECOND: f64 = 1000.0;
    const MINUTE: f64 = 60.0 * SECOND;
    const HOUR: f64 = 60.0 * MINUTE;
    const DAY: f64 = 24.0 * HOUR;
    let factor = match unit.as_str() {
        "" | "ms" | "msec" | "msecs" | "millisecond" | "milliseconds" => 1.0,
        "s" | "sec" | "secs" | "second" | "seconds" => SECOND,
        "m" | "min" | "mins" | "minute" | "minutes" => MINUTE,
        "h" | "hr" | "hrs" | "hour" | "hours" => HOUR,
        "d" | "day" | "days" => DAY,
        "w" | "week" | "weeks" => 7.0 * DAY,
        "y" | "yr" | "yrs" | "year" | "years" => 365.25 * DAY,
        _ => return None,
    };
    Some(value * factor)
}

/// Renders milliseconds as a short human duration for messages (`4h`, `90m`, `2.5d`).
pub fn format_ms(ms: f64) -> String {
    const UNITS: [(f64, &str); 5] =
        [(604_800_000.0, "w"), (86_400_000.0, "d"), (3_600_000.0, "h"), (60_000.0, "m"), (1000.0, "s")];
    for (size, unit) in UNITS {
        if ms.abs() >= size && (ms / size).fract() == 0.0 {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

/// Why a slug is rejected, or `None` when Infisical accepts it as is.
///
/// Infisical trims the value, checks its length, and requires it to equal
/// `slugify(value, { lowercase: true })`: lowercase ASCII letters and digits in runs joined by single hyphens.
pub fn slug_problem(slug: &str, max: usize) -> Option<String> {
    if slug.trim() != slug {
        return Some("Infisical would trim the surrounding blanks".into());
    }
    if slug.is_empty() {
        return Some("a slug cannot be empty".into());
    }
    let length = slug.chars().count();
    if length > max {
        return Some(format!("it is {length} characters long; the limit is {max}"));
    }
    if let Some(bad) = slug.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')) {
        return Some(if bad.is_ascii_uppercase() {
            "slugs are lowercase".into()
        } else {
            format!("`{bad}` is not allowed in a slug")
        });
    }
    if slug.starts_with('-') || slug.ends_with('-') || slug.contains("--") {
        return Some("hyphens may only join letters and digits: no leading, trailing or double hyphens".into());
    }
    None
}

/// The slug Infisical's slugify would make of `text`, for a suggested fix.
pub fn slugify(text: &str) -> String {
    let mut out = String::new();
    for ch in text.trim().chars().flat_map(char::to_lowercase) {
        if ch.is_ascii_alphanumeric() {
            out.push(ch);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// Whether `text` is a date-time zod's `z.string().datetime()` accepts: `YYYY-MM-DDTHH:MM:SS[.fraction]Z`,
/// with a real calendar date.
pub fn is_iso_datetime(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = text.get(range)?;
        if part.bytes().all(|c| c.is_ascii_digit()) { part.parse().ok() } else { None }
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return false;
    }
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) =
        (digits(0..4), digits(5..7), digits(8..10), digits(11..13), digits(14..16), digits(17..19))
    else {
        return false;
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    if day == 0 || day > days_in_month || hour > 23 || minute > 59 || second > 59 {
        return false;
    }
    let rest = &text[19..];
    let rest = match rest.strip_prefix('.') {
        Some(fraction) => {
            let n = fraction.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 {
                return false;
            }
            &fraction[n..]
        }
        None => rest,
    };
    rest == "Z"
}

/// Milliseconds since the Unix epoch of a timestamp accepted by [`is_iso_datetime`].
pub fn parse_iso_datetime_ms(text: &str) -> Option<i64> {
    if !is_iso_datetime(text) {
        return None;
    }
    let num = |range: std::ops::Range<usize>| text[range].parse::<i64>().ok();
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    // Days from civil (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let fraction = text[19..].strip_prefix('.').map_or(0, |rest| {
        let digits: String = rest.chars().take_while(char::is_ascii_digit).take(3).collect();
        format!("{digits:0<3}").parse::<i64>().unwrap_or(0)
    });
    Some(((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ms_matches_the_npm_package() {
        let cases: &[(&str, Option<f64>)] = &[
            ("1h", Some(3_600_000.0)),
            ("3d", Some(259_200_000.0)),
            ("1w", Some(604_800_000.0)),
            ("1y", Some(31_557_600_000.0)),
            ("2.5 hrs", Some(9_000_000.0)),
            ("1 week", Some(604_800_000.0)),
            ("10 minutes", Some(600_000.0)),
            ("100", Some(100.0)),
            ("-1h", Some(-3_600_000.0)),
            ("1M", Some(60_000.0)),
            ("1H", Some(3_600_000.0)),
            (".5s", Some(500.0)),
            ("1h30m", None),
            (" 1h", None),
            ("1h ", None),
            ("", None),
            ("h", None),
            ("1.", None),
            ("1 fortnight", None),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_ms(input), *expected, "ms({input:?})");
        }
        assert_eq!(parse_ms(&"1".repeat(101)), None);
    }

    #[test]
    fn slugs_follow_slugify() {
        assert_eq!(slug_problem("prod-reader-2", 64), None);
        for bad in ["Prod", "a_b", "-a", "a-", "a--b", " a", "", "a.b", "é"] {
            assert!(slug_problem(bad, 64).is_some(), "{bad:?} should be rejected");
        }
        assert!(slug_problem(&"a".repeat(61), 60).is_some());
        assert_eq!(slug_problem(&"a".repeat(60), 60), None);
        assert_eq!(slugify(" Prod_Reader  v2 "), "prod-reader-v2");
    }

    #[test]
    fn datetimes_follow_zod() {
        for good in ["2026-11-20T09:00:00Z", "2024-02-29T23:59:59.123456Z"] {
            assert!(is_iso_datetime(good), "{good}");
        }
        for bad in [
            "2026-11-20",
            "2026-11-20T09:00Z",
            "2026-11-20T09:00:00+01:00",
            "2025-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-11-20T24:00:00Z",
            "2026-11-20T09:00:00.Z",
        ] {
            assert!(!is_iso_datetime(bad), "{bad}");
        }
        assert_eq!(parse_iso_datetime_ms("1970-01-01T00:00:01.5Z"), Some(1500));
        assert_eq!(parse_iso_datetime_ms("2026-11-22T00:00:00Z"), Some(1_795_305_600_000));
    }
}

/// Milliseconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (UTC; milliseconds shown when not zero).
pub fn format_iso_datetime(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (hours, minutes, seconds, millis) =
        (in_day / 3_600_000, in_day / 60_000 % 60, in_day / 1_000 % 60, in_day % 1_000);
    if millis == 0 {
        format!("{year:04}-{month:02}-{day:02}T{hours:02}:{minutes:02}:{seconds:02}Z")
    } else {
        format!("{year:04}-{month:02}-{day:02}T{hours:02}:{minutes:02}:{seconds:02}.{millis:03}Z")
    }
}

#[cfg(test)]
mod format_tests {
    use super::*;

    #[test]
    fn formats_round_trip_with_the_parser() {
        for text in ["1970-01-01T00:00:00Z", "2026-11-16T08:00:00Z", "2000-02-29T23:59:59.500Z", "1969-12-31T23:59:59Z"]
        {
            assert_eq!(format_iso_datetime(parse_iso_datetime_ms(text).unwrap()), text);
        }
    }
}

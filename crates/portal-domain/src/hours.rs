//! Business hours in the tenant's time zone: SLA targets count only the
//! minutes the service desk is open (weekly hours, minus holidays), so a
//! ticket filed on Friday evening is due on Monday, and a daylight-saving
//! change moves opening time with the clock on the wall.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// Opening hours per weekday (Monday first), as `"09:00"`–`"17:00"`; null: closed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BusinessHours {
    pub time_zone: String,
    pub week: [Option<(String, String)>; 7],
    /// Local dates the desk is closed (`YYYY-MM-DD`).
    #[serde(default)]
    pub holidays: Vec<String>,
}

impl Default for BusinessHours {
    fn default() -> Self {
        let day = || Some(("09:00".to_string(), "17:00".to_string()));
        BusinessHours { time_zone: "UTC".into(), week: [day(), day(), day(), day(), day(), None, None], holidays: Vec::new() }
    }
}

fn time(s: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(s, "%H:%M").ok().or_else(|| (s == "24:00").then(|| NaiveTime::from_hms_opt(23, 59, 59)).flatten())
}

impl BusinessHours {
    /// Problems with the settings, by field.
    pub fn check(&self) -> Vec<edge_http::FieldError> {
        let mut e = Vec::new();
        if self.time_zone.parse::<Tz>().is_err() {
            e.push(edge_http::FieldError::new("time_zone", "must be an IANA time zone such as Europe/Berlin"));
        }
        for (i, d) in self.week.iter().enumerate() {
            if let Some((a, b)) = d {
                match (time(a), time(b)) {
                    (Some(x), Some(y)) if x < y => {}
                    _ => e.push(edge_http::FieldError::new(&format!("week[{i}]"), "must be [\"HH:MM\", \"HH:MM\"] with the opening before the closing")),
                }
            }
        }
        if self.week.iter().all(Option::is_none) {
            e.push(edge_http::FieldError::new("week", "the desk must be open on at least one day"));
        }
        for h in &self.holidays {
            if NaiveDate::parse_from_str(h, "%Y-%m-%d").is_err() {
                e.push(edge_http::FieldError::new("holidays", "each holiday must be a date like 2026-12-25"));
            }
        }
        e
    }

    /// The open interval of a local date, in UTC (None: closed that day).
    fn window(&self, tz: Tz, day: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        if self.holidays.iter().any(|h| h == &day.format("%Y-%m-%d").to_string()) {
            return None;
        }
        let (a, b) = self.week[day.weekday().num_days_from_monday() as usize].as_ref()?;
        // A wall-clock time that does not exist (spring forward) opens at the next one that does.
        let at = |t: NaiveTime| {
            let local = day.and_time(t);
            tz.from_local_datetime(&local).earliest().or_else(|| tz.from_local_datetime(&(local + Duration::hours(1))).earliest()).map(|d| d.with_timezone(&Utc))
        };
        Some((at(time(a)?)?, at(time(b)?)?))
    }

    /// `minutes` of open time after `start` (later if `start` is out of hours).
    pub fn add(&self, start: DateTime<Utc>, minutes: i64) -> DateTime<Utc> {
        let tz: Tz = self.time_zone.parse().unwrap_or(chrono_tz::UTC);
        let mut left = Duration::minutes(minutes.max(0));
        let mut day = start.with_timezone(&tz).date_naive();
        for _ in 0..3660 {
            if let Some((open, close)) = self.window(tz, day) {
                let from = open.max(start);
                if from < close {
                    let available = close - from;
                    if left <= available {
                        return from + left;
                    }
                    left -= available;
                }
            }
            day = day.succ_opt().unwrap_or(day);
        }
        start + Duration::minutes(minutes) // no open time for ten years: wall-clock minutes
    }

    /// Open minutes between two instants (for reports: response times in business hours).
    pub fn between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        if to <= from {
            return 0;
        }
        let tz: Tz = self.time_zone.parse().unwrap_or(chrono_tz::UTC);
        let mut total = Duration::zero();
        let mut day = from.with_timezone(&tz).date_naive();
        let last = to.with_timezone(&tz).date_naive();
        while day <= last {
            if let Some((open, close)) = self.window(tz, day) {
                let (a, b) = (open.max(from), close.min(to));
                if a < b {
                    total += b - a;
                }
            }
            day = match day.succ_opt() {
                Some(d) => d,
                None => break,
            };
        }
        total.num_minutes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn berlin() -> BusinessHours {
        BusinessHours { time_zone: "Europe/Berlin".into(), ..Default::default() }
    }

    #[test]
    fn inside_and_across_the_working_day() {
        let h = berlin();
        // Mon 2026-11-23 10:00 Berlin (09:00 UTC) + 2 h = 12:00 Berlin.
        assert_eq!(h.add(utc("2026-11-23T09:00:00Z"), 120), utc("2026-11-23T11:00:00Z"));
        // Mon 16:00 Berlin + 2 h: one hour today, one from Tuesday 09:00.
        assert_eq!(h.add(utc("2026-11-23T15:00:00Z"), 120), utc("2026-11-24T09:00:00Z"));
        // Filed at 03:00 Berlin: the clock starts at 09:00.
        assert_eq!(h.add(utc("2026-11-23T02:00:00Z"), 30), utc("2026-11-23T08:30:00Z"));
    }

    #[test]
    fn weekends_and_holidays_do_not_count() {
        let mut h = berlin();
        // Friday 2026-11-27 16:30 Berlin + 1 h → Monday 09:30 Berlin.
        assert_eq!(h.add(utc("2026-11-27T15:30:00Z"), 60), utc("2026-11-30T08:30:00Z"));
        h.holidays = vec!["2026-11-30".into()];
        assert_eq!(h.add(utc("2026-11-27T15:30:00Z"), 60), utc("2026-12-01T08:30:00Z"), "a holiday Monday moves it to Tuesday");
        assert_eq!(h.between(utc("2026-11-27T15:30:00Z"), utc("2026-12-01T08:30:00Z")), 60);
    }

    #[test]
    fn time_zones_and_daylight_saving() {
        // The same instant is mid-morning in New York and evening in Tokyo.
        let ny = BusinessHours { time_zone: "America/New_York".into(), ..Default::default() };
        let tokyo = BusinessHours { time_zone: "Asia/Tokyo".into(), ..Default::default() };
        let t = utc("2026-11-24T15:00:00Z"); // Tue 10:00 in New York, Wed 00:00 in Tokyo
        assert_eq!(ny.add(t, 60), utc("2026-11-24T16:00:00Z"));
        assert_eq!(tokyo.add(t, 60), utc("2026-11-25T01:00:00Z"), "Tokyo opens at 09:00 local = 00:00 UTC, +1 h");
        // Berlin leaves summer time on Sunday 2026-10-25: Friday 16:00 CEST (14:00 UTC) + 2 h
        // ends Monday 10:00 CET, which is 09:00 UTC, not 08:00.
        assert_eq!(berlin().add(utc("2026-10-23T14:00:00Z"), 120), utc("2026-10-26T09:00:00Z"));
        assert!(BusinessHours { time_zone: "Mars/Olympus".into(), ..Default::default() }.check().iter().any(|e| e.field == "time_zone"));
    }
}

//! The four forms of `status` on one fixed assessment with every state: insta snapshots of
//! the Markdown and the JSON, and the HTML's structure parsed with roxmltree.

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use rust_decimal_macros::dec;
use settlement_model::SettlementDate;
use store::RunStatus;

use super::{render, StatusForm};
use crate::ops::assess::{Assessment, DayAssessment, DayHealth, NewestRun};
use crate::verify::Check;

fn d(s: &str) -> SettlementDate {
    s.parse().unwrap()
}

fn day(date: &str, state: DayHealth, n: u32) -> DayAssessment {
    let ran = state != DayHealth::NeverRun;
    let mut bitcoin = BTreeMap::new();
    if ran {
        bitcoin.insert(
            "S19J_PRO".to_owned(),
            dec!(1.23456789) * rust_decimal::Decimal::from(n),
        );
        bitcoin.insert("S9".to_owned(), dec!(0.5) * rust_decimal::Decimal::from(n));
    }
    DayAssessment {
        date: d(date),
        state,
        failed_checks: Vec::new(),
        missing_periods: Vec::new(),
        drift_periods: Vec::new(),
        records: if ran { u64::from(n) * 100 } else { 0 },
        energy_mwh: if ran {
            dec!(1234.5678) * rust_decimal::Decimal::from(n)
        } else {
            dec!(0)
        },
        payment_gbp: if ran {
            dec!(-98765.4321) * rust_decimal::Decimal::from(n)
        } else {
            dec!(0)
        },
        bitcoin,
        newest_run: ran.then(|| NewestRun {
            run_id: format!("00000000-0000-4000-8000-0000000000{n:02}"),
            started_at: Utc.with_ymd_and_hms(2024, 4, 1, 9, n, 0).unwrap(),
            status: RunStatus::Committed,
            reason: Some("ticket 7 | <script>alert(1)</script> & more".into()),
            user: "ops".into(),
            host: "box-1".into(),
            detail: None,
        }),
        error: None,
        drift: Vec::new(),
    }
}

/// 2024-02-28..2024-03-09: every state, across a month boundary.
pub(crate) fn fixture() -> Assessment {
    let mut days = Vec::new();
    for (i, date) in d("2024-02-28").through(d("2024-03-09")).enumerate() {
        let n = u32::try_from(i).unwrap() + 1;
        let state = match i {
            0..=2 | 8 => DayHealth::Verified,
            3 => DayHealth::Incomplete,
            4 => DayHealth::Inconsistent,
            5 => DayHealth::Failed,
            6 => DayHealth::Drift,
            _ => DayHealth::NeverRun,
        };
        let mut a = day(&date.to_string(), state, n);
        match state {
            DayHealth::Incomplete => {
                a.missing_periods = vec![10, 11, 12, 30];
                a.failed_checks.push(Check {
                    name: "periods_fetched".into(),
                    ok: false,
                    detail: "44 of 48 periods fetched".into(),
                });
            }
            DayHealth::Inconsistent => a.failed_checks.push(Check {
                name: "daily_matches_records".into(),
                ok: false,
                detail: "daily 1 MWh £2; Σ 3 records 4 MWh £5".into(),
            }),
            DayHealth::Failed => {
                if let Some(r) = a.newest_run.as_mut() {
                    r.status = RunStatus::Failed;
                    r.detail = Some("HTTP 500 from the API <b>".into());
                }
            }
            DayHealth::Drift => a.drift_periods = vec![20, 21],
            _ => {}
        }
        days.push(a);
    }
    Assessment {
        from: d("2024-02-28"),
        to: d("2024-03-09"),
        against_api: true,
        days,
    }
}

#[test]
fn markdown_snapshot() {
    insta::assert_snapshot!("status_markdown", render(&fixture(), StatusForm::Markdown));
}

#[test]
fn json_snapshot() {
    insta::assert_snapshot!("status_json", render(&fixture(), StatusForm::Json));
}

#[test]
fn text_names_every_state_and_ends_each_line() {
    let text = render(&fixture(), StatusForm::Text);
    assert!(text.ends_with('\n'));
    for s in DayHealth::ALL {
        assert!(text.contains(s.as_str()), "{s:?}");
    }
    assert!(text.contains("reingest run 2024-03-03 --reason 'status: inconsistent'"));
    assert!(
        text.contains("£-") || text.contains("-£"),
        "negative payments formatted"
    );
}

#[test]
fn html_is_one_self_contained_well_formed_page() {
    let a = fixture();
    let html = render(&a, StatusForm::Html);
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no URL"
    );
    assert!(!html.to_ascii_lowercase().contains("<script"), "no script");
    assert!(!html.contains("<script>alert"), "outside text escaped");
    assert!(html.contains("@media print") && html.contains("prefers-color-scheme: dark"));
    let doc = roxmltree::Document::parse_with_options(
        &html,
        roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        },
    )
    .expect("the page is well-formed");
    for attr in ["src", "href"] {
        assert!(
            doc.descendants().all(|n| n.attribute(attr).is_none()),
            "nothing loaded from elsewhere ({attr})"
        );
    }
    let squares: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("rect") && n.attribute("data-date").is_some())
        .collect();
    assert_eq!(squares.len(), a.days.len(), "one square per date");
    for (sq, day) in squares.iter().zip(&a.days) {
        assert_eq!(
            sq.attribute("data-date"),
            Some(day.date.to_string().as_str())
        );
        assert_eq!(sq.attribute("data-state"), Some(day.state.as_str()));
        let title = sq
            .children()
            .find(|c| c.has_tag_name("title"))
            .and_then(|t| t.text())
            .expect("every square has a title");
        assert!(title.contains(&day.date.to_string()) && title.contains(day.state.as_str()));
        assert!(title.contains("MWh") && title.contains('£'), "{title}");
    }
    let legend: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("li") && n.attribute("data-state").is_some())
        .filter_map(|n| n.attribute("data-state"))
        .collect();
    let all: Vec<&str> = DayHealth::ALL.iter().map(|s| s.as_str()).collect();
    assert_eq!(legend, all, "the legend names every state");
    let months: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text") && n.attribute("class") == Some("month"))
        .filter_map(|n| n.text())
        .collect();
    assert!(
        months.contains(&"Mar 2024") || months.contains(&"Mar"),
        "{months:?}"
    );
    let attention: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("tr"))
        .filter_map(|n| n.attribute("data-date"))
        .collect();
    let expected: Vec<String> = a.attention().map(|d| d.date.to_string()).collect();
    assert_eq!(attention, expected, "the attention list");
    assert!(html.contains("reingest run 2024-03-02 --reason &#39;status: incomplete&#39;"));
    assert!(html.contains("reingest report 00000000-0000-4000-8000-000000000006"));
}

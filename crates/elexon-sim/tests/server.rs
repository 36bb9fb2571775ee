//! The simulator over HTTP: routes, validation, determinism, faults, statistics, revisions,
//! latency and shutdown.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use elexon_sim::{data, wire, Fault, FaultRule, PathKind, SimConfig, SimHandle, Simulator};
use settlement_model::{BmUnit, SettlementDate, Side, StackItem};

fn date(s: &str) -> SettlementDate {
    s.parse().unwrap()
}

async fn start(seed: u64) -> SimHandle {
    Simulator::start(SimConfig {
        seed,
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn stack_url(sim: &SimHandle, side: &str, d: &str, period: u32, format: &str) -> String {
    format!(
        "{}/balancing/settlement/stack/all/{side}/{d}/{period}?format={format}",
        sim.base_url()
    )
}

async fn get(c: &reqwest::Client, url: &str) -> (u16, String) {
    let r = c.get(url).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

/// The items of a JSON stack document.
fn json_items(body: &str) -> Vec<StackItem> {
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(v["metadata"]["datasets"][0], "ISPSTACK");
    wire::stack_json_items(body).unwrap()
}

/// `(settlementDate, settlementPeriod)` of every item of an XML stack document.
fn xml_keys(body: &str) -> Vec<(String, String)> {
    let doc = roxmltree::Document::parse(body).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("SettlementStackResponse"))
        .map(|n| {
            let child = |name: &str| {
                n.children()
                    .find(|c| c.has_tag_name(name))
                    .and_then(|c| c.text())
                    .unwrap_or_default()
                    .to_owned()
            };
            (child("SettlementDate"), child("SettlementPeriod"))
        })
        .collect()
}

#[tokio::test]
async fn same_seed_same_bytes_other_seed_other_bytes() {
    let (a, b, c) = (start(7).await, start(7).await, start(8).await);
    let http = client();
    for format in ["xml", "json"] {
        for (side, d, p) in [("bid", "2024-03-21", 35), ("offer", "2024-10-27", 50)] {
            let (sa, ba) = get(&http, &stack_url(&a, side, d, p, format)).await;
            let (_, bb) = get(&http, &stack_url(&b, side, d, p, format)).await;
            let (_, bc) = get(&http, &stack_url(&c, side, d, p, format)).await;
            assert_eq!(sa, 200);
            assert_eq!(ba, bb, "{format} {side} {d} {p}");
            assert_ne!(ba, bc, "another seed gives other data");
        }
    }
    // Without `format` the answer is JSON, as the real API's, and the body is the wire
    // module's document.
    let url = stack_url(&a, "bid", "2024-03-21", 35, "json").replace("?format=json", "");
    let r = http.get(&url).send().await.unwrap();
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"),
        "{:?}",
        r.headers()["content-type"]
    );
    let items = data::stack_items(7, date("2024-03-21"), 35, Side::Bid, 0);
    assert_eq!(r.text().await.unwrap(), wire::stack_json(&items));
    for sim in [a, b, c] {
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn every_period_of_the_clock_change_days_is_served() {
    let sim = start(42).await;
    let http = client();
    for (d, periods) in [("2024-03-31", 46u32), ("2024-10-27", 50)] {
        for p in 1..=periods {
            for side in ["bid", "offer"] {
                let (status, body) = get(&http, &stack_url(&sim, side, d, p, "json")).await;
                assert_eq!(status, 200, "{d} {p} {side}");
                let items = json_items(&body);
                let s: Side = side.parse().unwrap();
                assert_eq!(items, data::stack_items(42, date(d), p as u8, s, 0));
                assert!(items.iter().all(|i| i.settlement_period == p as u8));
            }
            let (status, body) = get(&http, &stack_url(&sim, "bid", d, p, "xml")).await;
            assert_eq!(status, 200);
            let keys = xml_keys(&body);
            assert!(keys.iter().all(|(kd, kp)| kd == d && kp == &p.to_string()));
        }
        let (status, body) = get(&http, &stack_url(&sim, "bid", d, periods + 1, "xml")).await;
        assert_eq!(status, 400, "period {} on {d}", periods + 1);
        assert!(body.contains("does not exist"), "{body}");
    }
    let stats = sim.stats();
    assert_eq!(stats.requests_for(date("2024-03-31"), 46, Side::Bid), 2);
    assert_eq!(stats.requests_for(date("2024-03-31"), 46, Side::Offer), 1);
    assert_eq!(stats.status(400), 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn bad_requests_are_400_and_unknown_paths_404() {
    let sim = start(42).await;
    let http = client();
    for (url, expect) in [
        (stack_url(&sim, "both", "2024-03-21", 1, "xml"), "side"),
        (stack_url(&sim, "bid", "2024-02-30", 1, "xml"), "2024-02-30"),
        (stack_url(&sim, "bid", "21-03-2024", 1, "xml"), "21-03-2024"),
        (stack_url(&sim, "bid", "2024-03-21", 0, "xml"), "period 0"),
        (stack_url(&sim, "bid", "2024-03-21", 49, "xml"), "period 49"),
        (stack_url(&sim, "bid", "2024-03-21", 1, "csv"), "csv"),
        (
            stack_url(&sim, "bid", "2024-03-21", 1, "xml").replace("/1?", "/x?"),
            "not a number",
        ),
    ] {
        let (status, body) = get(&http, &url).await;
        assert_eq!(status, 400, "{url}");
        assert!(body.contains(expect), "{url}: {body}");
    }
    let (status, _) = get(&http, &format!("{}/nope", sim.base_url())).await;
    assert_eq!(status, 404);
    let stats = sim.stats();
    assert_eq!(stats.stack_requests, 7);
    assert_eq!(stats.requests_of(PathKind::Other), 1);
    assert!(
        stats.per_period.is_empty(),
        "invalid requests are not per-period"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn bmunits_and_difficulty_endpoints() {
    let sim = start(42).await;
    let http = client();
    let r = http
        .get(format!("{}/reference/bmunits/all", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let text = r.text().await.unwrap();
    let units: Vec<BmUnit> = serde_json::from_str(&text).unwrap();
    assert_eq!(units, data::bm_units(42));
    let raw: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    assert!(raw[0]["generationCapacity"].is_string());

    let (status, body) = get(&http, &sim.difficulty_url()).await;
    assert_eq!(status, 200);
    let rows: Vec<Vec<&serde_json::value::RawValue>> = serde_json::from_str(&body).unwrap();
    let whole = |raw: &serde_json::value::RawValue| raw.get().parse::<i64>().unwrap();
    let expected = data::difficulty_adjustments(42);
    assert_eq!(rows.len(), expected.len());
    // Newest first, as mempool.space sends them.
    assert!(whole(rows[0][0]) > whole(rows[1][0]));
    let last = expected.last().unwrap();
    assert_eq!(rows[0][2].get(), last.2.to_string());
    assert_eq!(rows[0].len(), 4);
    let stats = sim.stats();
    assert_eq!(stats.bmunit_requests, 1);
    assert_eq!(stats.difficulty_requests, 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn each_fault_kind_and_its_count() {
    let sim = start(42).await;
    let http = client();
    let d = "2024-03-21";
    let normal_xml = get(&http, &stack_url(&sim, "bid", d, 10, "xml")).await.1;
    let normal_json = get(&http, &stack_url(&sim, "bid", d, 10, "json")).await.1;
    sim.reset_stats();

    // 429 with and without Retry-After, twice each, then normal.
    sim.add_fault(
        FaultRule::new(Fault::TooManyRequests {
            retry_after_secs: Some(3),
        })
        .period(10)
        .times(2),
    );
    sim.add_fault(
        FaultRule::new(Fault::TooManyRequests {
            retry_after_secs: None,
        })
        .period(10)
        .times(1),
    );
    let url = stack_url(&sim, "bid", d, 10, "xml");
    for expect_header in [Some("3"), Some("3"), None] {
        let r = http.get(&url).send().await.unwrap();
        assert_eq!(r.status(), 429);
        assert_eq!(
            r.headers().get("retry-after").map(|v| v.to_str().unwrap()),
            expect_header
        );
    }
    assert_eq!(get(&http, &url).await, (200, normal_xml.clone()));
    assert!(sim.faults().remaining().is_empty());

    // A rule for another side, date or period does not fire; the first matching rule wins.
    sim.add_fault(
        FaultRule::new(Fault::ServerError)
            .side(Side::Offer)
            .times(1),
    );
    sim.add_fault(
        FaultRule::new(Fault::NotFound)
            .date(date("2024-03-22"))
            .times(1),
    );
    sim.add_fault(FaultRule::new(Fault::ServerError).period(10).times(1));
    sim.add_fault(FaultRule::new(Fault::NotFound).period(10).times(1));
    assert_eq!(get(&http, &url).await.0, 500);
    assert_eq!(get(&http, &url).await.0, 404);
    assert_eq!(get(&http, &url).await.0, 200);
    assert_eq!(
        sim.faults().remaining().len(),
        2,
        "offer and 03-22 rules unused"
    );
    sim.clear_faults();
    assert!(sim.faults().remaining().is_empty());

    // Truncated: a prefix of the document that no longer parses.
    sim.add_fault(FaultRule::new(Fault::TruncatedBody).times(1));
    let (status, body) = get(&http, &url).await;
    assert_eq!(status, 200);
    assert!(body.len() < normal_xml.len() && normal_xml.starts_with(&body));
    assert!(roxmltree::Document::parse(&body).is_err());

    // Malformed XML and JSON.
    sim.add_fault(FaultRule::new(Fault::MalformedXml).times(2));
    let (status, body) = get(&http, &url).await;
    assert_eq!(status, 200);
    assert!(roxmltree::Document::parse(&body).is_err());
    let json_url = stack_url(&sim, "bid", d, 10, "json");
    let (status, body) = get(&http, &json_url).await;
    assert_eq!(status, 200);
    assert_ne!(body, normal_json);
    assert!(serde_json::from_str::<serde_json::Value>(&body).is_err());

    // Aborted: the connection closes before the declared length arrives.
    sim.add_fault(FaultRule::new(Fault::AbortedBody).times(1));
    let r = http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200, "the headers arrive");
    assert!(
        r.text().await.is_err(),
        "an aborted body is a transport error"
    );

    // Wrong period and wrong date: a valid document for something else.
    sim.add_fault(FaultRule::new(Fault::WrongPeriod).times(1));
    sim.add_fault(FaultRule::new(Fault::WrongDate).times(1));
    let (_, body) = get(&http, &url).await;
    let keys = xml_keys(&body);
    assert!(!keys.is_empty() && keys.iter().all(|k| k.0 == d && k.1 == "11"));
    let (_, body) = get(&http, &json_url).await;
    let items = json_items(&body);
    assert!(items
        .iter()
        .all(|i| i.settlement_date.to_string() == "2024-03-22" && i.settlement_period == 10));
    // On the last period of a day the wrong period is the one before.
    sim.add_fault(FaultRule::new(Fault::WrongPeriod).times(1));
    let (_, body) = get(&http, &stack_url(&sim, "bid", d, 48, "json")).await;
    assert!(json_items(&body).iter().all(|i| i.settlement_period == 47));

    // Delay: the answer is normal but late.
    sim.add_fault(FaultRule::new(Fault::Delay(Duration::from_millis(300))).times(1));
    let t = Instant::now();
    assert_eq!(get(&http, &url).await, (200, normal_xml.clone()));
    assert!(t.elapsed() >= Duration::from_millis(300));
    assert_eq!(get(&http, &url).await, (200, normal_xml));

    // Faults on the other endpoints, selected by kind.
    sim.add_fault(
        FaultRule::new(Fault::ServerError)
            .kind(PathKind::BmUnits)
            .times(1),
    );
    let units_url = format!("{}/reference/bmunits/all", sim.base_url());
    assert_eq!(get(&http, &sim.difficulty_url()).await.0, 200);
    assert_eq!(get(&http, &units_url).await.0, 500);
    assert_eq!(get(&http, &units_url).await.0, 200);

    assert!(sim.faults().remaining().is_empty());
    let stats = sim.stats();
    assert_eq!(stats.faults_injected, 14);
    assert_eq!(stats.status(429), 3);
    assert_eq!(stats.status(500), 2);
    assert_eq!(stats.status(404), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn unlimited_rules_persist_until_cleared() {
    let sim = start(42).await;
    let http = client();
    sim.add_fault(FaultRule::new(Fault::ServerError).period(5));
    let url = stack_url(&sim, "offer", "2024-06-01", 5, "json");
    for _ in 0..5 {
        assert_eq!(get(&http, &url).await.0, 500);
    }
    assert_eq!(
        get(&http, &stack_url(&sim, "offer", "2024-06-01", 6, "json"))
            .await
            .0,
        200
    );
    sim.clear_faults();
    assert_eq!(get(&http, &url).await.0, 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn rate_limit_knob_answers_429_with_retry_after() {
    let sim = start(42).await;
    let http = client();
    sim.set_rate_limit(Some(5));
    let url = format!("{}/reference/bmunits/all", sim.base_url());
    let t = Instant::now();
    let mut statuses = Vec::new();
    for _ in 0..10 {
        let r = http.get(&url).send().await.unwrap();
        if r.status() == 429 {
            assert_eq!(r.headers()["retry-after"], "1");
        }
        statuses.push(r.status().as_u16());
    }
    let served = statuses.iter().filter(|&&s| s == 200).count();
    if t.elapsed() < Duration::from_millis(900) {
        // All ten arrived within one second: exactly five are served.
        assert_eq!(served, 5, "{statuses:?}");
    } else {
        assert!(served >= 5, "{statuses:?}");
    }
    assert_eq!(
        sim.stats().rate_limited,
        statuses.iter().filter(|&&s| s == 429).count() as u64
    );
    sim.set_rate_limit(None);
    assert_eq!(get(&http, &url).await.0, 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn stats_count_requests_and_peaks() {
    let sim = start(42).await;
    let http = client();
    let d = date("2024-01-15");
    let t = Instant::now();
    let mut tasks = Vec::new();
    for p in 1..=20u32 {
        let http = http.clone();
        let url = stack_url(&sim, "bid", "2024-01-15", p, "json");
        tasks.push(tokio::spawn(async move { get(&http, &url).await.0 }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    let elapsed = t.elapsed();
    let stats = sim.stats();
    assert_eq!(stats.total_requests, 20);
    assert_eq!(stats.stack_requests, 20);
    assert_eq!(stats.peak_per_minute, 20);
    if elapsed < Duration::from_millis(900) {
        assert_eq!(stats.peak_per_second, 20);
    }
    assert!(stats.peak_per_second >= 1 && stats.peak_per_second <= 20);
    assert_eq!(stats.per_period.len(), 20);
    assert_eq!(stats.requests_for(d, 7, Side::Bid), 1);
    assert_eq!(stats.requests_for(d, 7, Side::Offer), 0);
    assert_eq!(stats.status(200), 20);
    sim.reset_stats();
    let stats = sim.stats();
    assert_eq!((stats.total_requests, stats.peak_per_second), (0, 0));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_revision_changes_the_days_data() {
    let sim = start(42).await;
    let http = client();
    let d = date("2024-02-10");
    let fetch_day = |format: &'static str| {
        let http = http.clone();
        let sim = sim.clone();
        async move {
            let mut day = Vec::new();
            for p in 1..=48 {
                day.push(
                    get(&http, &stack_url(&sim, "bid", "2024-02-10", p, format))
                        .await
                        .1,
                );
            }
            day
        }
    };
    let before = fetch_day("json").await;
    let other_day_before = get(&http, &stack_url(&sim, "bid", "2024-02-11", 1, "json"))
        .await
        .1;
    assert_eq!(sim.revision(d), 0);
    sim.set_revision(d, 1);
    assert_eq!(sim.revision(d), 1);
    let after = fetch_day("json").await;
    let mut changed = 0;
    for (b, a) in before.iter().zip(&after) {
        let (b, a) = (json_items(b), json_items(a));
        assert!(
            a[0].created_date_time > b[0].created_date_time,
            "created moves later"
        );
        let strip = |v: Vec<StackItem>| {
            v.into_iter()
                .map(|mut i| {
                    i.created_date_time = None;
                    i
                })
                .collect::<Vec<_>>()
        };
        changed += usize::from(strip(a) != strip(b));
    }
    assert!(
        changed > 0 && changed < 48,
        "some, not all, periods change: {changed}"
    );
    assert_eq!(sim.expected_items(d, 3, Side::Bid), json_items(&after[2]));
    // Other dates keep their data; going back to revision 0 restores the first run.
    assert_eq!(
        get(&http, &stack_url(&sim, "bid", "2024-02-11", 1, "json"))
            .await
            .1,
        other_day_before
    );
    sim.set_revision(d, 0);
    assert_eq!(fetch_day("json").await, before);
    sim.shutdown().await;
}

#[tokio::test]
async fn latency_is_added_to_every_request() {
    let sim = Simulator::start(SimConfig {
        latency: Duration::from_millis(250),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let http = client();
    let t = Instant::now();
    assert_eq!(get(&http, &sim.difficulty_url()).await.0, 200);
    assert!(t.elapsed() >= Duration::from_millis(250));
    sim.set_latency(Duration::ZERO);
    sim.set_latency(Duration::from_millis(100));
    let t = Instant::now();
    assert_eq!(get(&http, &sim.difficulty_url()).await.0, 200);
    let e = t.elapsed();
    assert!(e >= Duration::from_millis(100), "{e:?}");
    sim.shutdown().await;
}

#[tokio::test]
async fn shutdown_from_another_task_refuses_connections() {
    let sim = start(42).await;
    let http = client();
    let url = stack_url(&sim, "bid", "2024-03-21", 1, "xml");
    assert_eq!(get(&http, &url).await.0, 200);
    // A request stuck in a long delay does not hold the shutdown up.
    sim.add_fault(FaultRule::new(Fault::Delay(Duration::from_secs(600))).times(1));
    let slow = {
        let http = http.clone();
        let url = url.clone();
        tokio::spawn(async move { http.get(&url).send().await.map(|r| r.status().as_u16()) })
    };
    // Poll until the slow request has arrived.
    let deadline = Instant::now() + Duration::from_secs(10);
    while sim.stats().total_requests < 2 {
        assert!(Instant::now() < deadline, "slow request never arrived");
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let other = sim.clone();
    let t = Instant::now();
    tokio::spawn(other.shutdown()).await.unwrap();
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
    let slow = slow.await.unwrap();
    assert!(matches!(slow, Ok(503) | Err(_)), "{slow:?}");
    let err = http.get(&url).send().await.unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    // A second shutdown is harmless.
    sim.shutdown().await;
}

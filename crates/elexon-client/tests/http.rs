//! HttpSource against the simulator (crates/elexon-sim): formats, retries, the rate limit,
//! timeouts, and the errors that are not retried.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use elexon_client::{ClientConfig, FetchError, Format, HttpSource, ParseError, SettlementSource};
use elexon_sim::{Fault, FaultRule, PathKind, SimConfig, SimHandle, Simulator};
use settlement_model::{SettlementDate, Side};

async fn sim() -> SimHandle {
    Simulator::start(SimConfig::default()).await.unwrap()
}

fn date(s: &str) -> SettlementDate {
    s.parse().unwrap()
}

/// Fast settings for tests: no practical rate limit, short backoff.
fn config(sim: &SimHandle, format: Format) -> ClientConfig {
    ClientConfig {
        format,
        requests_per_minute: 600_000,
        max_concurrency: 16,
        timeout: Duration::from_secs(5),
        max_attempts: 4,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(50),
        ..ClientConfig::with_base_url(sim.base_url())
    }
}

fn source(config: ClientConfig) -> HttpSource {
    HttpSource::new(config).unwrap()
}

#[tokio::test]
async fn xml_and_json_give_identical_items_over_many_dates_and_periods() {
    let sim = sim().await;
    let xml = source(config(&sim, Format::Xml));
    let json = source(config(&sim, Format::Json));
    let mut compared = 0;
    let mut items_seen = 0;
    let (mut without_id, mut long_decimals) = (0, 0);
    // An ordinary day in full, both clock changes in full, and a spread of other dates.
    let mut stacks = Vec::new();
    for d in ["2024-03-21", "2024-03-31", "2024-10-27"] {
        let d = date(d);
        stacks.extend(d.all_periods().map(|p| (d, p.number())));
    }
    for d in [
        "2016-01-07",
        "2019-06-30",
        "2021-12-25",
        "2023-02-14",
        "2025-11-30",
    ] {
        let d = date(d);
        stacks.extend([1, 2, 17, 33, d.periods()].map(|p| (d, p)));
    }
    for (d, period) in stacks {
        for side in Side::BOTH {
            let (a, b) = tokio::join!(xml.stack(d, period, side), json.stack(d, period, side));
            let (a, b) = (a.unwrap(), b.unwrap());
            assert_eq!(a.format, Format::Xml);
            assert_eq!(b.format, Format::Json);
            assert!(a.body.starts_with(b"<?xml"), "{d} {period} {side}");
            assert_eq!(a.items, b.items, "{d} period {period} {side}");
            assert_eq!(
                a.items,
                sim.expected_items(d, period, side),
                "{d} period {period} {side}"
            );
            compared += 1;
            items_seen += a.items.len();
            without_id += a.items.iter().filter(|i| i.id.is_none()).count();
            long_decimals += a.items.iter().filter(|i| i.volume.scale() > 10).count();
        }
    }
    assert_eq!(compared, 2 * (48 + 46 + 50 + 5 * 5));
    assert!(
        items_seen > 1_000,
        "only {items_seen} items: the comparison would be vacuous"
    );
    // The comparison covered system rows without a unit id, and long decimals.
    assert!(
        without_id > 0 && long_decimals > 0,
        "{without_id} {long_decimals}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn bm_units_and_downloads() {
    let sim = sim().await;
    let http = source(config(&sim, Format::Xml));
    let list = http.bm_units().await.unwrap();
    assert!(list.without_id.is_empty());
    let units = list.units;
    assert_eq!(units, elexon_sim::data::bm_units(sim.seed()));
    assert_eq!(units.iter().filter(|u| u.is_wind()).count(), 40);

    let difficulty = http.get_bytes(&sim.difficulty_url()).await.unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&difficulty).unwrap();
    assert!(rows.as_array().is_some_and(|r| !r.is_empty()));

    let refused = http
        .get_bytes("http://example.com/api/v1/mining/difficulty-adjustments")
        .await;
    assert!(
        matches!(refused, Err(FetchError::InsecureUrl { .. })),
        "{refused:?}"
    );
    assert_eq!(sim.stats().total_requests, 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn retries_succeed_through_a_429_storm_within_the_rate_limit() {
    let sim = sim().await;
    let rpm = 1_200; // 20 requests per second
    let http = source(ClientConfig {
        requests_per_minute: rpm,
        max_attempts: 6,
        max_backoff: Duration::from_millis(200),
        ..config(&sim, Format::Xml)
    });
    let d = date("2024-01-15");
    let stacks: Vec<(u8, Side)> = (1..=20).flat_map(|p| Side::BOTH.map(|s| (p, s))).collect();
    // Every one of the first 40 stack requests is refused, asking for a 1 s pause.
    let storm = 40;
    sim.add_fault(
        FaultRule::new(Fault::TooManyRequests {
            retry_after_secs: Some(1),
        })
        .kind(PathKind::Stack)
        .times(storm),
    );
    let started = Instant::now();
    let results = futures::future::join_all(stacks.iter().map(|&(p, s)| {
        let http = http.clone(); // clones share the limiter
        async move { (p, s, http.stack(d, p, s).await) }
    }))
    .await;
    let elapsed = started.elapsed();
    for (p, s, result) in results {
        let response = result.unwrap_or_else(|e| panic!("period {p} {s}: {e}"));
        assert_eq!(response.items, sim.expected_items(d, p, s));
    }

    let stats = sim.stats();
    let requests = u64::try_from(stacks.len()).unwrap() + u64::from(storm);
    assert_eq!(stats.status(429), u64::from(storm));
    assert_eq!(stats.stack_requests, requests);
    // The configured rate is never exceeded per minute; within a second, no more than the
    // limiter's burst plus a second's share of the rate (plus one for arrival jitter).
    let burst = elexon_client::rate_limit_burst(rpm);
    let per_second = u64::from(rpm / 60);
    assert!(stats.peak_per_minute <= u64::from(rpm), "{stats:?}");
    assert!(
        stats.peak_per_second <= u64::from(burst) + per_second + 1,
        "peak {} > {burst} + {per_second}/s",
        stats.peak_per_second
    );
    // After the burst the limiter spaces requests 60 s / (rpm - burst - 1) apart; and
    // Retry-After was honoured.
    let spacing = Duration::from_secs(60) / (rpm - burst - 1);
    assert!(
        elapsed >= spacing * u32::try_from(requests - u64::from(burst)).unwrap(),
        "{elapsed:?}"
    );
    assert!(
        elapsed >= Duration::from_secs(1),
        "Retry-After ignored: {elapsed:?}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn the_sim_rate_limit_is_survived_and_respected() {
    let sim = sim().await;
    // The server allows 10/s; the client is configured for 900/min (15/s) and must cope.
    sim.set_rate_limit(Some(10));
    let http = source(ClientConfig {
        requests_per_minute: 900,
        max_attempts: 8,
        max_backoff: Duration::from_millis(200),
        ..config(&sim, Format::Json)
    });
    let d = date("2024-12-01");
    let results = futures::future::join_all((1..=15u8).map(|p| {
        let http = http.clone();
        async move { http.stack(d, p, Side::Bid).await }
    }))
    .await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let stats = sim.stats();
    assert!(stats.peak_per_second <= 16, "{stats:?}");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_persistent_500_gives_up_after_max_attempts() {
    let sim = sim().await;
    let http = source(config(&sim, Format::Xml));
    let (d, p, s) = (date("2024-03-21"), 7, Side::Bid);
    sim.add_fault(FaultRule::new(Fault::ServerError).date(d).period(p).side(s));
    let err = http.stack(d, p, s).await.unwrap_err();
    match &err {
        FetchError::RetriesExhausted { attempts, last, .. } => {
            assert_eq!(*attempts, 4);
            assert!(
                matches!(**last, FetchError::Status { status: 500, .. }),
                "{last}"
            );
        }
        other => panic!("expected RetriesExhausted, got {other}"),
    }
    let message = err.to_string();
    assert_eq!(
        message.matches("2024-03-21 period 7 bid").count(),
        1,
        "the target is named once: {message}"
    );
    assert!(message.contains("HTTP 500"), "{message}");
    assert_eq!(
        message.matches("http://").count(),
        1,
        "the URL once: {message}"
    );
    assert_eq!(sim.stats().requests_for(d, p, s), 4);
    assert_eq!(
        (http.requests_sent(), http.retries()),
        (4, 3),
        "the counters"
    );

    // The BM unit list too.
    sim.add_fault(FaultRule::new(Fault::ServerError).kind(PathKind::BmUnits));
    let err = http.bm_units().await.unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert_eq!(sim.stats().bmunit_requests, 4);
    sim.shutdown().await;
}

#[tokio::test]
async fn not_found_and_bad_request_are_not_retried() {
    let sim = sim().await;
    let http = source(config(&sim, Format::Xml));
    let (d, p) = (date("2024-03-21"), 12);
    sim.add_fault(
        FaultRule::new(Fault::NotFound)
            .date(d)
            .period(p)
            .side(Side::Offer),
    );
    let err = http.stack(d, p, Side::Offer).await.unwrap_err();
    assert!(
        matches!(
            err,
            FetchError::NotPublished {
                period: 12,
                side: Side::Offer,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(sim.stats().requests_for(d, p, Side::Offer), 1);

    // The client refuses a period the date does not have before sending anything; a raw
    // request shows the server's 400 is not retried either.
    assert!(matches!(
        http.stack(d, 49, Side::Bid).await,
        Err(FetchError::InvalidPeriod(_))
    ));
    let before = sim.stats().total_requests;
    let url = format!(
        "{}/balancing/settlement/stack/all/bid/2024-03-21/49",
        sim.base_url()
    );
    let err = http.get_bytes(&url).await.unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");
    assert!(!err.is_retryable());
    assert_eq!(sim.stats().total_requests, before + 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn timeouts_are_retried() {
    let sim = sim().await;
    let http = source(ClientConfig {
        timeout: Duration::from_millis(300),
        ..config(&sim, Format::Xml)
    });
    let (d, p, s) = (date("2024-03-21"), 20, Side::Bid);
    sim.add_fault(
        FaultRule::new(Fault::Delay(Duration::from_secs(3)))
            .date(d)
            .period(p)
            .side(s)
            .times(2),
    );
    let response = http.stack(d, p, s).await.unwrap();
    assert_eq!(response.items, sim.expected_items(d, p, s));
    assert_eq!(sim.stats().requests_for(d, p, s), 3);

    sim.add_fault(
        FaultRule::new(Fault::Delay(Duration::from_secs(3)))
            .date(d)
            .period(p),
    );
    let err = http.stack(d, p, s).await.unwrap_err();
    match err {
        FetchError::RetriesExhausted {
            attempts: 4, last, ..
        } => {
            assert!(matches!(*last, FetchError::Timeout { .. }), "{last}");
        }
        other => panic!("expected RetriesExhausted, got {other}"),
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn truncated_and_aborted_bodies_are_retried() {
    let sim = sim().await;
    let d = date("2024-02-10");
    for (format, fault, p) in [
        (Format::Xml, Fault::TruncatedBody, 3),
        (Format::Json, Fault::TruncatedBody, 4),
        (Format::Xml, Fault::AbortedBody, 5),
        (Format::Xml, Fault::MalformedXml, 6),
        (Format::Json, Fault::MalformedXml, 7),
    ] {
        let http = source(config(&sim, format));
        sim.add_fault(FaultRule::new(fault.clone()).date(d).period(p).times(2));
        let response = http
            .stack(d, p, Side::Bid)
            .await
            .unwrap_or_else(|e| panic!("{format} {fault:?}: {e}"));
        assert_eq!(
            response.items,
            sim.expected_items(d, p, Side::Bid),
            "{fault:?}"
        );
        assert_eq!(
            sim.stats().requests_for(d, p, Side::Bid),
            3,
            "{format} {fault:?}"
        );
    }
    // Always cut: gives up, naming the last cause.
    let http = source(config(&sim, Format::Xml));
    sim.add_fault(FaultRule::new(Fault::AbortedBody).date(d).period(8));
    let err = http.stack(d, 8, Side::Bid).await.unwrap_err();
    assert!(err.to_string().contains("truncated body"), "{err}");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_wrong_period_or_date_is_a_typed_error_and_not_retried() {
    let sim = sim().await;
    // The simulator answers with period p + 1, or the next day's period p: pick a p where
    // both of those documents have items to betray them.
    let d = date("2024-01-15");
    let next_day = d.succ().unwrap();
    let p = (1..48u8)
        .find(|&p| {
            !sim.expected_items(d, p + 1, Side::Bid).is_empty()
                && !sim.expected_items(next_day, p, Side::Bid).is_empty()
        })
        .expect("a winter day with items");
    for format in [Format::Xml, Format::Json] {
        let http = source(config(&sim, format));
        for (fault, field) in [
            (Fault::WrongPeriod, "settlementPeriod"),
            (Fault::WrongDate, "settlementDate"),
        ] {
            sim.reset_stats();
            sim.add_fault(FaultRule::new(fault).date(d).period(p).times(1));
            let err = http.stack(d, p, Side::Bid).await.unwrap_err();
            match &err {
                FetchError::Parse(e @ ParseError::WrongDocument { .. }) => {
                    assert_eq!(e.field(), Some(field), "{e}");
                }
                other => panic!("{format}: expected WrongDocument, got {other}"),
            }
            assert_eq!(sim.stats().requests_for(d, p, Side::Bid), 1);
        }
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn oversized_bodies_are_refused_without_retry() {
    let sim = sim().await;
    let d = date("2024-01-15");
    let http = source(ClientConfig {
        max_body_bytes: 256,
        ..config(&sim, Format::Xml)
    });
    let err = http.stack(d, 30, Side::Bid).await.unwrap_err();
    assert!(
        matches!(err, FetchError::BodyTooLarge { limit: 256, .. }),
        "{err}"
    );
    assert_eq!(sim.stats().requests_for(d, 30, Side::Bid), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn concurrency_is_bounded() {
    let sim = sim().await;
    sim.set_latency(Duration::from_millis(200));
    let http = source(ClientConfig {
        max_concurrency: 2,
        ..config(&sim, Format::Xml)
    });
    let d = date("2024-03-21");
    let started = Instant::now();
    let results = futures::future::join_all((1..=6u8).map(|p| http.stack(d, p, Side::Offer))).await;
    assert!(results.iter().all(Result::is_ok));
    // Six 200 ms requests, two at a time: at least three rounds.
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "{:?}",
        started.elapsed()
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_stopped_server_is_a_connection_error() {
    let sim = sim().await;
    let http = source(ClientConfig {
        max_attempts: 2,
        ..config(&sim, Format::Xml)
    });
    sim.clone().shutdown().await;
    let err = http
        .stack(date("2024-03-21"), 1, Side::Bid)
        .await
        .unwrap_err();
    match err {
        FetchError::RetriesExhausted {
            attempts: 2, last, ..
        } => {
            assert!(matches!(*last, FetchError::Connection { .. }), "{last}");
        }
        other => panic!("expected RetriesExhausted, got {other}"),
    }
}

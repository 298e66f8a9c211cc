//! Quick-add parser throughput over a fixed mix of realistic phrases.

use std::hint::black_box;

use chrono::{DateTime, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use steward_core::quickadd::parse;

/// A mix of what people type: plain titles, dates, times, tags, priorities
/// and recurrences.
const PHRASES: [&str; 20] = [
    "fix bug due tomorrow p2",
    "add high priority task fix bug due tomorrow",
    "call mom tomorrow at 5pm #family",
    "standup every weekday at 9:30am #work",
    "submit report by friday p1",
    "gym every monday and thursday at 7am",
    "email Bob at 9am",
    "remind me to stretch every day at 11am",
    "buy milk",
    "read chapter 3 of the rust book",
    "pay rent every 15th #finance",
    "dentist appointment march 3rd 2027 at 10:30am",
    "renew passport in 2 weeks p3",
    "review quarterly goals end of month #work #planning",
    "water the plants every other day",
    "team lunch next friday at noon #team",
    "book flights to Lisbon 2026-05-10 high priority",
    "call the plumber about the leaking kitchen sink tonight",
    "sync with design every 2 weeks on monday",
    "add task write the release notes for version 0.3 by wed #release",
];

/// The phrases of issue 11: abbreviations, moments, numeric dates, parts
/// of the day, nth-weekday and clamped rules, compound lists, priority
/// words, openers, zones and bare hours. Measured separately so `parse_mix`
/// stays comparable across versions.
const NEW_PHRASES: [&str; 16] = [
    "email Marie tmrw",
    "review PR in 2 hours",
    "doctor appointment on 12/15",
    "finish report by end of day",
    "remind me to call John tomorrow morning",
    "take out trash every sunday night",
    "team lunch every last friday",
    "book club every 2nd tuesday",
    "pay rent every month on the 31st",
    "call mom every monday at 9am and friday",
    "urgent: fix login",
    "don't forget to renew passport asap",
    "call Anna at 3pm PST",
    "meeting at 5 tomorrow",
    "leap party every feb 29",
    "I need to water the plants every other day #home",
];

fn bench_parse(c: &mut Criterion) {
    let now = DateTime::<Utc>::from_timestamp(1_771_669_800, 0).unwrap_or_default();
    let tz = chrono_tz::Europe::Berlin;
    let mut group = c.benchmark_group("quickadd");
    group.throughput(Throughput::Elements(PHRASES.len() as u64));
    group.bench_function("parse_mix", |b| {
        b.iter(|| {
            for phrase in PHRASES {
                let _ = black_box(parse(black_box(phrase), now, tz));
            }
        })
    });
    group.throughput(Throughput::Elements(NEW_PHRASES.len() as u64));
    group.bench_function("parse_issue_11", |b| {
        b.iter(|| {
            for phrase in NEW_PHRASES {
                let _ = black_box(parse(black_box(phrase), now, tz));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench_parse);
criterion_main!(benches);

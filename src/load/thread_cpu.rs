//! CPU time per thread group, read from `/proc/<pid>/task/*/stat`: what a load run cost each
//! part of timsg (the arbiters, the store writer, the indexer, the checkpointer, the service's
//! workers) and the generator, per message. CPU time is far steadier than messages per second
//! on a shared machine, so it is the figure a change is judged by.
//!
//! A thread's counters live as long as the thread: the work of threads that ended during the
//! run is in the process's total (`/proc/<pid>/stat`) but in no group, and is reported as
//! `exited`.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};

/// Which part of timsg a thread is, by its name (the kernel keeps the first 15 bytes).
pub fn group_of(name: &str) -> &'static str {
    const GROUPS: &[(&str, &str)] = &[
        // The engine's actix system, its arbiters and its media arbiter.
        ("timsg-arbiter", "arbiters"),
        ("timsg-system", "arbiters"),
        ("timsg-media", "media"),
        ("timsg-store", "store_writer"),
        ("timsg-indexer", "indexer"),
        ("timsg-checkpoin", "checkpointer"),
        ("timsg-slow-read", "slow_reads"),
        // The service's HTTP workers: actix-web's arbiters (the engine names its own).
        ("actix-rt|system", "service_workers"),
        ("actix-server", "service_workers"),
        ("timsg-nats", "cluster"),
        ("timsg-load", "generator"),
        // The send-hops floor's arbiters (a baseline measured before the load).
        ("timsg-floor-arb", "floor_arbiters"),
    ];
    GROUPS.iter().find(|(prefix, _)| name.starts_with(prefix)).map_or("other", |(_, group)| group)
}

/// One reading of a process's threads: CPU ticks per thread, and the whole process's.
#[derive(Debug, Clone, Default)]
pub struct CpuSample {
    threads: HashMap<u32, (&'static str, u64)>,
    process_ticks: u64,
}

/// The user and system ticks in a `stat` line (fields 14 and 15, counted after the name, which
/// may itself hold spaces and parentheses).
fn ticks_of(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(user + system)
}

impl CpuSample {
    /// Reads process `pid`'s threads (`None`: this process). `None` where `/proc` cannot say.
    pub fn read(pid: Option<u32>) -> Option<CpuSample> {
        let root = match pid {
            Some(p) => format!("/proc/{p}"),
            None => "/proc/self".to_string(),
        };
        let process_ticks = ticks_of(&std::fs::read_to_string(format!("{root}/stat")).ok()?)?;
        let mut threads = HashMap::new();
        for entry in std::fs::read_dir(format!("{root}/task")).ok()?.flatten() {
            let Some(tid) = entry.file_name().to_str().and_then(|t| t.parse::<u32>().ok()) else { continue };
            let path = entry.path();
            // A thread may end between the listing and the reads.
            let (Ok(name), Ok(stat)) =
                (std::fs::read_to_string(path.join("comm")), std::fs::read_to_string(path.join("stat")))
            else {
                continue;
            };
            if let Some(ticks) = ticks_of(&stat) {
                threads.insert(tid, (group_of(name.trim_end()), ticks));
            }
        }
        Some(CpuSample { threads, process_ticks })
    }

    /// CPU seconds each group used since `before`, with the process's total and what threads
    /// that ended used (`exited`).
    pub fn since(&self, before: &CpuSample) -> BTreeMap<&'static str, f64> {
        let tick = ticks_per_second();
        let mut groups: BTreeMap<&'static str, f64> = BTreeMap::new();
        let mut in_groups = 0;
        for (tid, (group, ticks)) in &self.threads {
            let earlier = before.threads.get(tid).map_or(0, |(_, t)| *t);
            let used = ticks.saturating_sub(earlier);
            in_groups += used;
            *groups.entry(group).or_default() += used as f64 / tick;
        }
        let process = self.process_ticks.saturating_sub(before.process_ticks);
        groups.insert("exited", process.saturating_sub(in_groups) as f64 / tick);
        groups.insert("process", process as f64 / tick);
        groups
    }
}

/// The kernel's clock ticks a second (`sysconf(_SC_CLK_TCK)`, 100 almost everywhere).
fn ticks_per_second() -> f64 {
    // SAFETY: sysconf only reads a constant of the system.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 { ticks as f64 } else { 100.0 }
}

/// CPU µs per message (to 0.01 µs) of `seconds` spent on `messages` messages; 0 for none.
pub fn per_message(seconds: f64, messages: u64) -> f64 {
    if messages == 0 { 0.0 } else { (seconds * 1e6 / messages as f64 * 100.0).round() / 100.0 }
}

/// `{group: µs per message}` for `messages` messages, from CPU seconds per group.
pub fn per_message_json(seconds: &BTreeMap<&'static str, f64>, messages: u64) -> Value {
    Value::Object(seconds.iter().map(|(g, s)| (g.to_string(), json!(per_message(*s, messages)))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_are_grouped_by_their_names() {
        assert_eq!(group_of("timsg-arbiter"), "arbiters");
        assert_eq!(group_of("actix-rt|system"), "service_workers");
        assert_eq!(group_of("timsg-store"), "store_writer");
        assert_eq!(group_of("timsg-checkpoin"), "checkpointer");
        assert_eq!(group_of("actix-server wo"), "service_workers");
        assert_eq!(group_of("timsg-load"), "generator");
        assert_eq!(group_of("timsg-floor-arb"), "floor_arbiters");
        assert_eq!(group_of("timsg-load-pace"), "generator");
        assert_eq!(group_of("main"), "other");
    }

    #[test]
    fn a_stat_line_with_a_name_holding_spaces_and_parentheses_is_read() {
        let stat = "4242 (a (b) c) S 1 2 3 4 5 6 7 8 9 10 250 31 0 0 20 0 1 0";
        assert_eq!(ticks_of(stat), Some(281));
        assert_eq!(ticks_of("garbage"), None);
    }

    #[test]
    fn a_busy_thread_shows_in_its_group_and_in_the_process() {
        let before = CpuSample::read(None).unwrap();
        let busy = std::thread::Builder::new()
            .name("timsg-indexer".into())
            .spawn(|| {
                let until = std::time::Instant::now() + std::time::Duration::from_millis(300);
                let mut x = 0u64;
                while std::time::Instant::now() < until {
                    x = x.wrapping_mul(31).wrapping_add(7);
                }
                std::hint::black_box(x);
                // Read while the thread still lives: its counters go with it.
                CpuSample::read(None).unwrap()
            })
            .unwrap();
        let after = busy.join().unwrap();
        let used = after.since(&before);
        assert!(used["indexer"] >= 0.1, "{used:?}");
        assert!(used["process"] >= used["indexer"], "{used:?}");
        let json = per_message_json(&used, 1000);
        assert!(json["indexer"].as_f64().unwrap() >= 100.0, "{json}");
    }
}

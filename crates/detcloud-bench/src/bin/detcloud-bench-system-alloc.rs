//! The fake's lifecycle throughput with the system allocator (the benchmark itself runs with
//! mimalloc): prints the JSON of [`detcloud_bench::throughput`]. `detcloud-bench` runs it.

fn main() {
    let rounds = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(5);
    println!("{}", detcloud_bench::throughput(rounds, 1000));
}

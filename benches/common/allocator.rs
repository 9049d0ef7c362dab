//! The benches allocate as the `timsg` binary does: with mimalloc (see `src/main.rs`).

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#!/usr/bin/env run-cargo-script
fn ok() {}
fn broken( { }
struct Fine { a: u8 }
impl Oops for {
pub fn after() -> u32 { 1 }
const X: = 3;
mod m { fn inside() {} }

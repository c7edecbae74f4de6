// bom file
fn crlf() {
    let s = "é ü 日本";
}
struct Ünïcödé;

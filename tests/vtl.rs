//! The template language against its cases: every case of the shared corpus, Portico's own
//! cases (each citing where its expectation comes from), and malformed templates with their
//! exact message and position.

use portico::mapping::cases::run_cases;

fn run(file: &str) {
    let text = std::fs::read_to_string(format!("{}/tests/vtl/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let report = run_cases(&text).unwrap();
    let lines: Vec<String> = report
        .failures
        .iter()
        .map(|f| format!("{}:\n  expected {:?}\n  got      {:?}", f.name, f.expected, f.got))
        .collect();
    assert!(lines.is_empty(), "{} passed, {} failed:\n{}", report.passed, lines.len(), lines.join("\n"));
    assert!(report.passed > 0);
}

#[test]
fn shared_corpus() {
    run("aws-cases.json");
}

#[test]
fn portico_cases() {
    run("portico-cases.json");
}

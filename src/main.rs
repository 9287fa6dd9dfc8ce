fn main() {
    let paths = std::env::args().skip(1).map(Into::into).collect();
    let report = irsa_lint::engine::lint(&irsa_lint::engine::Settings {
        paths,
        ..Default::default()
    })
    .unwrap();
    print!(
        "{}",
        irsa_lint::output::render(
            irsa_lint::output::Format::Human,
            &report.diagnostics,
            &report.sources,
            &Default::default()
        )
    );
}

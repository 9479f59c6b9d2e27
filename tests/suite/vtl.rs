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

mod hostile {
    //! Random templates built from VTL's own pieces: parsing and rendering always finish
    //! with output or an error, never a panic, a hang or a stack overflow.

    use bytes::Bytes;
    use portico::mapping::cases::Standalone;
    use portico::mapping::template::{MappingTemplate, Params};
    use portico::vtl::Limits;
    use proptest::prelude::*;

    const PIECES: &[&str] = &[
        "#if(",
        "#elseif(",
        "#else",
        "#end",
        "#{end}",
        "#foreach($i in ",
        "[1..900]",
        "[1..3]",
        "#set($x = ",
        "#set($m.k = ",
        "#macro(m $a)",
        "#m(",
        "#m()",
        "#define($d)",
        "$d",
        "#break",
        "#stop",
        "$x",
        "$!x",
        "${x}",
        "$i",
        "$m",
        "{}",
        "{'k': $x}",
        "[",
        "]",
        "(",
        ")",
        ",",
        "+",
        "-",
        "*",
        "/",
        "%",
        "==",
        "&&",
        "!",
        "1",
        "2.5",
        "'s'",
        "\"$x-$i\"",
        "$input.path('$')",
        "$input.path('$.a[*]')",
        "$input.json('$.a')",
        "$input.params('q')",
        "$util.escapeJavaScript($x)",
        "$x.size()",
        "$x.substring(1)",
        "$x.split(',')",
        "$x.replaceAll('a', 'b')",
        "$foreach.hasNext",
        "$context.requestId",
        "##c\n",
        "#*",
        "*#",
        "#[[",
        "]]#",
        "\\",
        "\\$x",
        "text",
        "\n",
        " ",
        "$",
        "#",
    ];

    /// Renders with an empty request around the body; only the template's own limits apply.
    fn render(t: &MappingTemplate, body: Bytes, limits: Limits) -> Result<String, String> {
        t.render(&Standalone::new(Params::default()).input(&body), limits)
            .map(|out| out.body)
            .map_err(|e| e.to_string())
    }

    fn template() -> impl Strategy<Value = String> {
        proptest::collection::vec(proptest::sample::select(PIECES), 0..40).prop_map(|p| p.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]
        #[test]
        fn parse_and_render_always_finish(source in template(), body in "[{}\\[\\]\"a:,0-9 ]{0,40}") {
            if let Ok(t) = MappingTemplate::compile(&source) {
                let limits = Limits { output_bytes: 1 << 20, ..Limits::default() };
                if let Ok(out) = render(&t, Bytes::from(body), limits) {
                    prop_assert!(out.len() <= 1 << 20);
                }
            }
        }
    }

    /// A reference into the document through one of four variables bound to parts of it.
    fn json_ref() -> impl Strategy<Value = String> {
        let var = proptest::sample::select(&["$r", "$s", "$t", "$u"][..]);
        let path = proptest::sample::select(&["", ".l", ".m", ".m.k", ".m.n", ".l[1]", ".l.get(1)", ".m.get('n')"][..]);
        (var, path).prop_map(|(v, p)| format!("{v}{p}"))
    }

    /// A statement that rebinds, changes, walks or prints parts of one JSON document.
    fn change() -> impl Strategy<Value = String> {
        let operand = prop_oneof![json_ref(), Just("1".to_string()), Just("[1]".to_string()), Just("{}".to_string())];
        (0..11usize, json_ref(), json_ref(), operand, proptest::sample::select(&["$r", "$s", "$t", "$u"][..])).prop_map(
            |(kind, a, b, x, var)| match kind {
                0 => format!("#set({var} = $input.path('$'))"),
                1 => format!("#set({var} = {a})"),
                2 => format!("{a}.put('k', {x})"),
                3 => format!("{a}.add({x})"),
                4 => format!("{a}.remove({b})"),
                5 => format!("{a}.putAll({b})"),
                6 => format!("#set({a}.q = {x})"),
                7 => format!("#foreach($i in {a})#set($i.w = 1)$i#end"),
                8 => format!("{a}.size() {a}.keySet() {a}.contains({b})"),
                9 => format!("#if({a} == {b})eq#end"),
                _ => format!("{a}.addAll({b})"),
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]
        /// Variables bound to parts of one document, changed through one another in any order
        /// (a container put into itself, a list added to itself, a map merged into its own
        /// member): the render finishes, and printing the same value twice gives the same text.
        #[test]
        fn changes_through_aliases_always_finish(changes in proptest::collection::vec(change(), 1..14)) {
            let source = format!(
                "#set($r = $input.path('$'))#set($s = $r.m)#set($t = $r.l)#set($u = $input.path('$.m.n')){}|$r|$s|$t|$u|$r|$s|$t|$u",
                changes.concat()
            );
            let t = MappingTemplate::compile(&source).expect("the generated template parses");
            let body = Bytes::from_static(br#"{"a": 1, "l": [1, {"x": 2}], "m": {"k": [3], "n": {"z": 1}}}"#);
            let limits = Limits { output_bytes: 1 << 20, ..Limits::default() };
            if let Ok(out) = render(&t, body, limits) {
                let printed: Vec<&str> = out.rsplitn(9, '|').collect();
                prop_assert_eq!(&printed[0..4], &printed[4..8], "printed twice: {}", out);
            }
        }
    }

    #[test]
    fn self_recursive_macro_is_an_error_not_a_stack_overflow() {
        let t = MappingTemplate::compile("#macro(m)x#m()#end#m()").unwrap();
        let err = render(&t, Bytes::new(), Limits::default()).expect_err("bounded");
        assert_eq!(err.to_string(), "line 1, column 11: macro calls nested deeper than 20");
    }

    #[test]
    fn maps_holding_each_other_are_an_error_when_printed_not_a_stack_overflow() {
        let t = MappingTemplate::compile("#set($a = {})#set($b = {'a': $a})#set($a.b = $b)$a").unwrap();
        let err = render(&t, Bytes::new(), Limits::default()).expect_err("bounded");
        assert_eq!(
            err,
            "line 1, column 49: a list or map nested more than 1000 levels deep, or holding itself, cannot be printed"
        );
        // A collection holding itself directly prints as Java's does.
        let t = MappingTemplate::compile("#set($m = {})#set($m.self = $m)#set($l = [1])#set($x = $l.add($l))$m $l")
            .unwrap();
        assert_eq!(render(&t, Bytes::new(), Limits::default()).unwrap(), "{self=(this Map)} [1, (this Collection)]");
    }

    #[test]
    fn lists_and_maps_nested_99000_deep_are_let_go_of_without_running_the_stack_out() {
        // On a thread with a small stack, where letting go of them by recursion would overflow.
        let nested = std::thread::Builder::new()
            .stack_size(512 * 1024)
            .spawn(|| {
                let deep = |build: &str| {
                    let source = format!("#foreach($a in [1..99])#foreach($b in [1..1000]){build}#end#end$l.size()");
                    render(&MappingTemplate::compile(&source).unwrap(), Bytes::new(), Limits::default())
                };
                (deep("#set($l = [$l])"), deep("#set($l = {'a': $l})"))
            })
            .unwrap()
            .join()
            .expect("no stack overflow");
        assert_eq!(nested, (Ok("1".to_string()), Ok("1".to_string())));
    }

    #[test]
    fn a_list_doubling_itself_is_stopped_by_the_output_bound() {
        let t = MappingTemplate::compile("#set($a = [1])#foreach($i in [1..40])#set($a = [$a, $a])#end$a").unwrap();
        let err = render(&t, Bytes::new(), Limits::default()).expect_err("bounded");
        assert_eq!(err, "line 1, column 61: the output is larger than 10485760 bytes");
    }

    #[test]
    fn comparing_a_huge_list_over_and_over_is_bounded_not_a_hang() {
        // Each `==` turns the list (2^40 items) into text, outside the output bound.
        let source = "#set($a = [1])#foreach($i in [1..40])#set($a = [$a, $a])#end#foreach($i in [1..1000])#if($a == $i)#end#end";
        let t = MappingTemplate::compile(source).unwrap();
        let err = render(&t, Bytes::new(), Limits::default()).expect_err("bounded");
        assert_eq!(err, "line 1, column 61: the template printed more than 20000000 values of lists and maps");
    }

    #[test]
    fn deep_nesting_is_a_parse_error() {
        let source = format!("#set($x = {}1{})", "(".repeat(500), ")".repeat(500));
        let err = MappingTemplate::compile(&source).expect_err("refused");
        assert!(err.to_string().contains("nesting is deeper than 100 levels"), "{err}");
    }
}

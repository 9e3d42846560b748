//! Unit tests of the master-file importer.

use super::writer::{yaml_double, yaml_value};
use super::*;

const SOA: &str = "@ 3600 IN SOA ns1 hostmaster 2026112301 3600 900 1209600 300\n";

fn import(text: &str) -> Result<String, MasterError> {
    import_master_text(text, Path::new("test.zone"), "example.com")
}

fn import_ok(text: &str) -> String {
    match import(text) {
        Ok(yaml) => yaml,
        Err(e) => panic!("import failed: {e}\n--- input ---\n{text}"),
    }
}

fn import_err(text: &str) -> MasterError {
    match import(text) {
        Ok(yaml) => panic!("expected an error, got:\n{yaml}"),
        Err(e) => e,
    }
}

/// A fresh directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!(
            "dynadns-master-{tag}-{}-{nanos}",
            std::process::id()
        ));
        fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        fs::write(&path, text).expect("write temp file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[test]
fn full_example_output() {
    let yaml = import_ok(
        "$TTL 3600\n\
             @ IN SOA ns1 hostmaster 2026112301 3600 900 1209600 300\n\
             \x20 NS ns1\n\
             \x20 NS ns2\n\
             \x20 MX 10 mail\n\
             \x20 TXT \"v=spf1 -all\"\n\
             ns1 A 192.0.2.53\n\
             mail 60 A 192.0.2.25\n\
             mail 60 A 192.0.2.26\n\
             big TXT \"part one\" \"part two\"\n\
             bin TXT \"\\255\"\n",
    );
    assert_eq!(
        yaml,
        "# imported from test.zone by dynadns import-zone\n\
             zone: \"example.com\"\n\
             ttl: 3600\n\
             soa: { primary: \"ns1\", contact: \"hostmaster\", serial: 2026112301, refresh: 3600, retry: 900, expire: 1209600, negative_ttl: 300 }\n\
             records:\n\
             \x20 \"@\":\n\
             \x20   NS: [\"ns1\", \"ns2\"]\n\
             \x20   MX: [\"10 mail\"]\n\
             \x20   TXT: [\"v=spf1 -all\"]\n\
             \x20 \"ns1\":\n\
             \x20   A: [\"192.0.2.53\"]\n\
             \x20 \"mail\":\n\
             \x20   A: { ttl: 60, data: [\"192.0.2.25\", \"192.0.2.26\"] }\n\
             \x20 \"big\":\n\
             \x20   TXT: [[\"part one\", \"part two\"]]\n\
             \x20 \"bin\":\n\
             \x20   TYPE16: ['\\# 2 01ff']\n"
    );
}

#[test]
fn origin_directive_and_absolute_origin_argument() {
    let yaml = import_master_text(
            &format!("{SOA}$ORIGIN sub.example.com.\nwww A 192.0.2.1\n$ORIGIN example.com.\nwww A 192.0.2.2\n"),
            Path::new("t.zone"),
            "example.com.",
        )
        .expect("import");
    assert!(yaml.contains("zone: \"example.com\"\n"), "{yaml}");
    assert!(
        yaml.contains("  \"www.sub\":\n    A: [\"192.0.2.1\"]\n"),
        "{yaml}"
    );
    assert!(
        yaml.contains("  \"www\":\n    A: [\"192.0.2.2\"]\n"),
        "{yaml}"
    );
}

#[test]
fn ttl_directive_sets_default_and_zone_ttl() {
    let yaml = import_ok(&format!(
        "$TTL 1h\n{SOA}www A 192.0.2.1\n$TTL 300\nftp A 192.0.2.2\n"
    ));
    assert!(yaml.contains("ttl: 3600\n"), "{yaml}");
    assert!(
        yaml.contains("  \"www\":\n    A: [\"192.0.2.1\"]\n"),
        "{yaml}"
    );
    assert!(
        yaml.contains("  \"ftp\":\n    A: { ttl: 300, data: [\"192.0.2.2\"] }\n"),
        "{yaml}"
    );
}

#[test]
fn zone_ttl_falls_back_to_soa_ttl_and_soa_ttl_is_emitted_when_different() {
    let yaml = import_ok(&format!("{SOA}www A 192.0.2.1\n"));
    assert!(yaml.contains("ttl: 3600\n"), "{yaml}");
    assert!(yaml.contains("negative_ttl: 300 }\n"), "{yaml}");
    let yaml = import_ok(&format!("$TTL 600\n{SOA}"));
    assert!(yaml.contains("ttl: 600\n"), "{yaml}");
    assert!(yaml.contains("negative_ttl: 300, ttl: 3600 }\n"), "{yaml}");
    assert!(yaml.ends_with("records: {}\n"), "{yaml}");
}

#[test]
fn unknown_directive_is_an_error() {
    let e = import_err(&format!("{SOA}$GENERATE 1-10 host$ A 192.0.2.$\n"));
    assert_eq!((e.line, e.col), (2, 1));
    assert!(e.message.contains("unknown directive $GENERATE"), "{e}");
}

#[test]
fn blank_owner_reuses_previous_owner() {
    let yaml = import_ok(&format!(
        "{SOA}www A 192.0.2.1\n\tAAAA 2001:db8::1\n  TXT \"hi\"\n"
    ));
    assert!(
        yaml.contains(
            "  \"www\":\n    A: [\"192.0.2.1\"]\n    AAAA: [\"2001:db8::1\"]\n    TXT: [\"hi\"]\n"
        ),
        "{yaml}"
    );
    let e = import_err(" A 192.0.2.1\n");
    assert_eq!((e.line, e.col), (1, 2));
    assert!(e.message.contains("no owner name"), "{e}");
}

#[test]
fn ttl_and_class_in_either_order() {
    let yaml = import_ok(&format!(
        "{SOA}a 300 IN A 192.0.2.1\nb IN 300 A 192.0.2.2\nc A 192.0.2.3\nd in 1h30m a 192.0.2.4\ne CLASS1 TYPE1 \\# 4 C0000205\n"
    ));
    assert!(
        yaml.contains("  \"a\":\n    A: { ttl: 300, data: [\"192.0.2.1\"] }\n"),
        "{yaml}"
    );
    assert!(
        yaml.contains("  \"b\":\n    A: { ttl: 300, data: [\"192.0.2.2\"] }\n"),
        "{yaml}"
    );
    // No TTL and no $TTL: the last explicit TTL (RFC 1035 section 5.1).
    assert!(
        yaml.contains("  \"c\":\n    A: { ttl: 300, data: [\"192.0.2.3\"] }\n"),
        "{yaml}"
    );
    assert!(
        yaml.contains("  \"d\":\n    A: { ttl: 5400, data: [\"192.0.2.4\"] }\n"),
        "{yaml}"
    );
    assert!(
        yaml.contains("  \"e\":\n    TYPE1: { ttl: 5400, data: ['\\# 4 c0000205'] }\n"),
        "{yaml}"
    );
}

#[test]
fn ttl_units() {
    assert_eq!(parse_ttl("3600"), Ok(3600));
    assert_eq!(parse_ttl("1h30m"), Ok(5400));
    assert_eq!(parse_ttl("1W"), Ok(604_800));
    assert!(parse_ttl("1h30").unwrap_err().starts_with("bad TTL"));
    let e = parse_ttl("2147483648").unwrap_err();
    assert!(e.contains("out of range (0..=2147483647)"), "{e}");
}

#[test]
fn non_in_class_is_an_error() {
    let e = import_err(&format!("{SOA}www 300 CH A 192.0.2.1\n"));
    assert_eq!((e.line, e.col), (2, 9));
    assert!(e.message.contains("class CH is not supported"), "{e}");
    let e = import_err(&format!("{SOA}www CLASS3 A 192.0.2.1\n"));
    assert!(e.message.contains("class CLASS3"), "{e}");
}

#[test]
fn missing_and_unknown_type() {
    let e = import_err(&format!("{SOA}www 300 IN\n"));
    assert_eq!((e.line, e.col), (2, 11));
    assert_eq!(e.message, "missing record type");
    let e = import_err(&format!("{SOA}www 300 IN AA 192.0.2.1\n"));
    assert_eq!((e.line, e.col), (2, 12));
    assert!(e.message.contains("unknown record type 'AA'"), "{e}");
}

#[test]
fn no_ttl_at_all_is_an_error() {
    let e = import_err("www A 192.0.2.1\n");
    assert_eq!((e.line, e.col), (1, 1));
    assert!(e.message.contains("no TTL"), "{e}");
}

#[test]
fn soa_without_any_ttl_uses_its_minimum_and_so_do_later_records() {
    let yaml = import_ok("@ SOA ns1 hostmaster 1 2 3 4 300\nwww A 192.0.2.1\n");
    assert!(yaml.contains("ttl: 300\n"), "{yaml}");
    assert!(
        yaml.contains("  \"www\":\n    A: [\"192.0.2.1\"]\n"),
        "{yaml}"
    );
}

#[test]
fn multi_line_soa_in_parentheses() {
    let yaml = import_ok(
        "$TTL 1d\n\
             @\tIN\tSOA\tns1.example.com. (  ; primary\n\
             \t\thostmaster.example.com. ; contact\n\
             \t\t2026112301 ; serial\n\
             \t\t1h         ; refresh\n\
             \t\t15m        ; retry\n\
             \t\t2w         ; expire\n\
             \t\t5m )       ; minimum\n\
             www A 192.0.2.1\n",
    );
    assert!(
            yaml.contains(
                "soa: { primary: \"ns1\", contact: \"hostmaster\", serial: 2026112301, refresh: 3600, retry: 900, expire: 1209600, negative_ttl: 300 }\n"
            ),
            "{yaml}"
        );
    assert!(yaml.contains("ttl: 86400\n"), "{yaml}");
    assert!(
        !yaml.contains("SOA:"),
        "SOA must not be repeated under records: {yaml}"
    );
}

#[test]
fn soa_names_outside_zone_and_at_apex() {
    let yaml = import_ok("@ 60 SOA ns.other.net. @ 1 2 3 4 5\n");
    assert!(
        yaml.contains("primary: \"ns.other.net.\", contact: \"@\","),
        "{yaml}"
    );
}

#[test]
fn soa_errors() {
    let e = import_err("www 60 A 192.0.2.1\n");
    assert_eq!(
        e.message,
        "no SOA record at the zone apex example.com; a zone file must start with one"
    );
    assert_eq!((e.line, e.col), (1, 1));
    let e = import_err(&format!("{SOA}sub 60 SOA ns1 hm 1 2 3 4 5\n"));
    assert_eq!(e.line, 2);
    assert!(e.message.contains("not at the zone apex"), "{e}");
    let e = import_err(&format!("{SOA}{SOA}"));
    assert!(e.message.contains("second SOA"), "{e}");
    let e = import_err("@ 60 SOA ns1 hm 1 2 3 4\n");
    assert!(e.message.contains("SOA needs 7 fields"), "{e}");
    let e = import_err("@ 60 SOA ns1 hm 1x 2 3 4 5\n");
    assert_eq!((e.line, e.col), (1, 17));
    assert!(e.message.contains("bad SOA serial"), "{e}");
    let e = import_err("");
    assert_eq!(e.line, 0);
    assert!(
        e.to_string().starts_with("test.zone: error: no SOA record"),
        "{e}"
    );
}

#[test]
fn comments_and_semicolons_inside_quotes() {
    let yaml = import_ok(&format!(
        "{SOA}; a comment line\nwww TXT \"a;b\" ; trailing comment\nwww CAA 0 issue \"ca.example; account=1\" ; x\n"
    ));
    assert!(yaml.contains("    TXT: [\"a;b\"]\n"), "{yaml}");
    assert!(
        yaml.contains("    CAA: [\"0 issue \\\"ca.example; account=1\\\"\"]\n"),
        "{yaml}"
    );
}

#[test]
fn txt_strings_and_escapes() {
    let yaml = import_ok(&format!(
        "{SOA}a TXT \"say \\\"hi\\\"\" \nb TXT \"back\\\\slash\" \nc TXT \"\\065\\066C\" \nd TXT \"\"\ne TXT one two\nf TXT ( \"multi\"\n  \"line\" )\ng TXT \"tab\\009x\"\nh TXT caf\u{e9}\n"
    ));
    assert!(
        yaml.contains("  \"a\":\n    TXT: [\"say \\\"hi\\\"\"]\n"),
        "{yaml}"
    );
    assert!(
        yaml.contains("  \"b\":\n    TXT: [\"back\\\\slash\"]\n"),
        "{yaml}"
    );
    assert!(yaml.contains("  \"c\":\n    TXT: [\"ABC\"]\n"), "{yaml}");
    assert!(yaml.contains("  \"d\":\n    TXT: [[\"\"]]\n"), "{yaml}");
    assert!(
        yaml.contains("  \"e\":\n    TXT: [[\"one\", \"two\"]]\n"),
        "{yaml}"
    );
    assert!(
        yaml.contains("  \"f\":\n    TXT: [[\"multi\", \"line\"]]\n"),
        "{yaml}"
    );
    assert!(
        yaml.contains("  \"g\":\n    TXT: [\"tab\\x09x\"]\n"),
        "{yaml}"
    );
    assert!(
        yaml.contains("  \"h\":\n    TXT: [\"caf\u{e9}\"]\n"),
        "{yaml}"
    );
}

/// TXT text that reads like RFC 3597 generic data (`\# 2 00`) stays text through the loader:
/// the importer writes it as a list of strings, which the loader never reads as `\#` form.
#[test]
fn txt_text_that_looks_generic_stays_text_in_the_zone() {
    let yaml = import_ok(&format!(
        "{SOA}@ NS ns1\nns1 A 192.0.2.1\na TXT \"\\\\# 2 00\"\n"
    ));
    assert!(yaml.contains("    TXT: [[\"\\\\# 2 00\"]]\n"), "{yaml}");
    let mut diags = crate::diag::Diagnostics::default();
    let zone = crate::zone::load::load_zone_text(
        &yaml,
        Path::new("a.yaml"),
        &crate::zone::load::KnownResources::default(),
        &mut diags,
    )
    .unwrap_or_else(|| panic!("the imported zone does not load: {diags}\n{yaml}"));
    let txt = zone
        .node(b"\x01a\x07example\x03com\x00")
        .and_then(|n| n.get(crate::wire::rtype::TXT))
        .expect("TXT at a");
    assert_eq!(txt.rdata[0].to_wire(), b"\x07\\# 2 00");
}

#[test]
fn txt_too_long_string_is_an_error() {
    let long = "x".repeat(256);
    let e = import_err(&format!("{SOA}a TXT ok \"{long}\"\n"));
    assert_eq!((e.line, e.col), (2, 10));
    assert!(e.message.contains("256 bytes"), "{e}");
}

#[test]
fn non_utf8_txt_becomes_generic_type16() {
    let yaml = import_ok(&format!(
        "{SOA}a TXT \"ok\" \"\\255\\000x\"\nb SPF \"\\200\"\nc TXT \"fine\"\n"
    ));
    assert!(
        yaml.contains("  \"a\":\n    TYPE16: ['\\# 7 026f6b03ff0078']\n"),
        "{yaml}"
    );
    assert!(
        yaml.contains("  \"b\":\n    TYPE99: ['\\# 2 01c8']\n"),
        "{yaml}"
    );
    assert!(yaml.contains("  \"c\":\n    TXT: [\"fine\"]\n"), "{yaml}");
    // Raw (unescaped) non-UTF-8 bytes in a file are handled the same way.
    let mut raw = format!("{SOA}r TXT \"").into_bytes();
    raw.extend_from_slice(b"\xe9t\xe9\"\n");
    let dir = TempDir::new("raw");
    let path = dir.0.join("raw.zone");
    fs::write(&path, &raw).expect("write");
    let yaml = import_master_file(&path, "example.com").expect("import");
    assert!(
        yaml.contains("  \"r\":\n    TYPE16: ['\\# 4 03e974e9']\n"),
        "{yaml}"
    );
}

#[test]
fn generic_rdata_is_normalised() {
    let yaml = import_ok(&format!(
        "{SOA}a A \\# 4 0A00 0001\nb TYPE65280 \\# 3 ABCD ef\nc TYPE999 \\# 0\n"
    ));
    assert!(
        yaml.contains("  \"a\":\n    A: ['\\# 4 0a000001']\n"),
        "{yaml}"
    );
    assert!(
        yaml.contains("  \"b\":\n    TYPE65280: ['\\# 3 abcdef']\n"),
        "{yaml}"
    );
    assert!(
        yaml.contains("  \"c\":\n    TYPE999: ['\\# 0']\n"),
        "{yaml}"
    );
    // Generic data of a known type must be valid for that type (RFC 3597 §5), as `check`
    // would demand: an SVCB whose target name is cut short is refused here.
    let e = import_err(&format!("{SOA}b TYPE64 \\# 3 ABCD ef\n"));
    assert_eq!((e.line, e.col), (2, 10), "{e}");
    let e = import_err(&format!("{SOA}a A \\# 5 0a000001\n"));
    assert_eq!((e.line, e.col), (2, 8));
    assert!(e.message.contains("does not match"), "{e}");
    let e = import_err(&format!("{SOA}a A \\# 4 0a00000g\n"));
    assert_eq!((e.line, e.col), (2, 10));
}

#[test]
fn names_with_escapes_are_preserved() {
    let yaml = import_ok(&format!(
            "{SOA}john\\.doe A 192.0.2.1\n\\065bc CNAME john\\.doe\n@ 60 SOA ns1 john\\.doe 1 2 3 4 5\n"
        )
        .replace("@ 60 SOA ns1 john\\.doe 1 2 3 4 5\n", ""));
    assert!(
        yaml.contains("  \"john\\\\.doe\":\n    A: [\"192.0.2.1\"]\n"),
        "{yaml}"
    );
    assert!(
        yaml.contains("  \"\\\\065bc\":\n    CNAME: [\"john\\\\.doe\"]\n"),
        "{yaml}"
    );
    let yaml = import_ok("@ 60 SOA ns1 john\\.doe 1 2 3 4 5\n");
    assert!(yaml.contains("contact: \"john\\\\.doe\""), "{yaml}");
}

#[test]
fn quoted_and_plain_rdata_tokens_are_normalised() {
    let yaml = import_ok(&format!(
        "{SOA}pc HINFO \"PC\"   \"Linux\"\n_sip._tcp SRV ( 10 60\n 5060 sip ) ; c\nrp RP @ .\n"
    ));
    assert!(
        yaml.contains("    HINFO: [\"\\\"PC\\\" \\\"Linux\\\"\"]\n"),
        "{yaml}"
    );
    assert!(
        yaml.contains("  \"_sip._tcp\":\n    SRV: [\"10 60 5060 sip\"]\n"),
        "{yaml}"
    );
    assert!(yaml.contains("    RP: [\"@ .\"]\n"), "{yaml}");
}

#[test]
fn relative_names_are_rewritten_when_origin_changes() {
    let yaml = import_ok(&format!(
        "{SOA}$ORIGIN sub.example.com.\n\
             www A 192.0.2.1\n\
             alias CNAME www\n\
             @ MX 10 mail\n\
             srv SRV 0 0 80 @\n\
             abs CNAME www.example.com.\n\
             $ORIGIN other.net.\n\
             x.example.com. CNAME y\n\
             $ORIGIN EXAMPLE.COM.\n\
             back CNAME www.sub\n"
    ));
    assert!(
        yaml.contains("  \"alias.sub\":\n    CNAME: [\"www.sub\"]\n"),
        "{yaml}"
    );
    assert!(
        yaml.contains("  \"sub\":\n    MX: [\"10 mail.sub\"]\n"),
        "{yaml}"
    );
    assert!(
        yaml.contains("  \"srv.sub\":\n    SRV: [\"0 0 80 sub\"]\n"),
        "{yaml}"
    );
    assert!(
        yaml.contains("  \"abs.sub\":\n    CNAME: [\"www.example.com.\"]\n"),
        "{yaml}"
    );
    // A target outside the zone becomes absolute.
    assert!(
        yaml.contains("  \"x\":\n    CNAME: [\"y.other.net.\"]\n"),
        "{yaml}"
    );
    // Same origin in another case: names stay as written.
    assert!(
        yaml.contains("  \"back\":\n    CNAME: [\"www.sub\"]\n"),
        "{yaml}"
    );
}

#[test]
fn rrset_grouping_ttls_and_duplicates() {
    let yaml = import_ok(&format!(
        "$TTL 3600\n{SOA}www 300 A 192.0.2.1\nmail A 192.0.2.9\nwww 60 A 192.0.2.2\nWWW 300 A 192.0.2.1\nwww MX 10 Mail\nwww MX 10 mail.\nwww MX 10 MAIL\n"
    ));
    assert!(
            yaml.contains(
                "  # \"www\" A: records have different TTLs (300, 60); using the smallest, 60 (RFC 2181 section 5.2)\n\
                 \x20 \"www\":\n\
                 \x20   A: { ttl: 60, data: [\"192.0.2.1\", \"192.0.2.2\"] }\n\
                 \x20   MX: [\"10 Mail\", \"10 mail.\"]\n\
                 \x20 \"mail\":\n"
            ),
            "{yaml}"
        );
}

#[test]
fn owner_outside_zone_is_an_error_as_in_check() {
    let e = import_err(&format!(
        "{SOA}www.example.com. A 192.0.2.2\nwww.example.net. A 192.0.2.1\n"
    ));
    assert_eq!((e.line, e.col), (3, 1), "{e}");
    assert!(e.message.contains("outside the zone example.com."), "{e}");
}

#[test]
fn error_position_for_bad_ttl() {
    let e = import_err(&format!("{SOA}www 1x A 192.0.2.1\n"));
    assert_eq!((e.line, e.col), (2, 5));
    assert!(e.message.starts_with("bad TTL '1x'"), "{e}");
    assert_eq!(
        e.to_string(),
        format!("test.zone:2:5: error: {}", e.message)
    );
    let e = import_err("$TTL forever\n");
    assert_eq!((e.line, e.col), (1, 6));
}

#[test]
fn error_position_for_unterminated_quote() {
    let e = import_err(&format!(
        "{SOA}www TXT \"ok\" \"never closed\nnext A 192.0.2.1\n"
    ));
    assert_eq!((e.line, e.col), (2, 14));
    assert!(e.message.contains("unterminated quoted string"), "{e}");
}

#[test]
fn parenthesis_errors() {
    let e = import_err(&format!("{SOA}www TXT ( \"a\"\n\"b\"\n"));
    assert_eq!((e.line, e.col), (2, 9));
    assert!(e.message.contains("unterminated parenthesis"), "{e}");
    let e = import_err(&format!("{SOA}www TXT \"a\" )\n"));
    assert_eq!((e.line, e.col), (2, 13));
    let e = import_err(&format!("{SOA}www TXT ( ( \"a\" ) )\n"));
    assert!(e.message.contains("nested"), "{e}");
}

#[test]
fn bad_escapes_are_errors() {
    let e = import_err(&format!("{SOA}www TXT \"\\25x\"\n"));
    assert_eq!((e.line, e.col), (2, 10));
    let e = import_err(&format!("{SOA}www TXT \\300\n"));
    assert!(e.message.contains("at most 255"), "{e}");
}

#[test]
fn include_with_its_own_origin() {
    let dir = TempDir::new("include");
    fs::create_dir_all(dir.0.join("sub")).expect("mkdir");
    dir.write(
            "sub/hosts.inc",
            "www A 192.0.2.1\n  AAAA 2001:db8::1\nalias CNAME www\n$ORIGIN deeper.example.com.\nx A 192.0.2.3\n",
        );
    let main = dir.write(
        "example.com.zone",
        &format!(
            "$TTL 3600\n{SOA}$INCLUDE \"sub/hosts.inc\" lab\n  A 192.0.2.2\nafter A 192.0.2.4\n"
        ),
    );
    let yaml = import_master_file(&main, "example.com").expect("import");
    assert!(
        yaml.contains("  \"www.lab\":\n    A: [\"192.0.2.1\"]\n    AAAA: [\"2001:db8::1\"]\n"),
        "{yaml}"
    );
    assert!(
        yaml.contains("  \"alias.lab\":\n    CNAME: [\"www.lab\"]\n"),
        "{yaml}"
    );
    assert!(yaml.contains("  \"x.deeper\":\n"), "{yaml}");
    // After the include, the owner reverts to the one before it (the apex) and the origin too.
    assert!(
        yaml.contains("  \"@\":\n    A: [\"192.0.2.2\"]\n"),
        "{yaml}"
    );
    assert!(yaml.contains("  \"after\":\n"), "{yaml}");
}

#[test]
fn include_not_found() {
    let dir = TempDir::new("missing");
    let main = dir.write("z.zone", &format!("{SOA}$INCLUDE nope.inc\n"));
    let e = import_master_file(&main, "example.com").expect_err("missing include");
    assert_eq!((e.file.clone(), e.line, e.col), (main, 2, 10));
    assert!(e.message.contains("cannot read included file"), "{e}");
}

#[test]
fn include_loop_is_an_error() {
    let dir = TempDir::new("loop");
    dir.write("a.inc", "a A 192.0.2.1\n$INCLUDE b.inc\n");
    let b = dir.write("b.inc", "b A 192.0.2.2\n$INCLUDE a.inc\n");
    let main = dir.write("z.zone", &format!("{SOA}$INCLUDE a.inc\n"));
    let e = import_master_file(&main, "example.com").expect_err("loop");
    assert_eq!((e.file.clone(), e.line, e.col), (b, 2, 10));
    assert!(e.message.contains("include loop"), "{e}");
    // A file including itself is a loop too.
    let selfish = dir.write("self.zone", &format!("{SOA}$INCLUDE self.zone\n"));
    let e = import_master_file(&selfish, "example.com").expect_err("self loop");
    assert!(e.message.contains("include loop"), "{e}");
}

#[test]
fn include_depth_is_limited() {
    let dir = TempDir::new("depth");
    for i in 0..20 {
        dir.write(
            &format!("{i}.inc"),
            &format!("h{i} A 192.0.2.1\n$INCLUDE {}.inc\n", i + 1),
        );
    }
    dir.write("20.inc", "last A 192.0.2.1\n");
    let main = dir.write("z.zone", &format!("{SOA}$INCLUDE 0.inc\n"));
    let e = import_master_file(&main, "example.com").expect_err("too deep");
    assert!(e.message.contains("nested more than 16"), "{e}");
}

#[test]
fn missing_file_and_bad_origin() {
    let e = import_master_file(Path::new("/nonexistent/dynadns/zone"), "example.com")
        .expect_err("missing");
    assert_eq!(e.line, 0);
    assert!(
        e.to_string()
            .starts_with("/nonexistent/dynadns/zone: error: cannot read zone file"),
        "{e}"
    );
    let e = import_master_text(SOA, Path::new("t"), "a..b").expect_err("bad origin");
    assert!(e.message.contains("bad zone origin"), "{e}");
}

#[test]
fn yaml_double_quoting() {
    assert_eq!(yaml_double("plain"), "\"plain\"");
    assert_eq!(yaml_double("a\"b\\c"), "\"a\\\"b\\\\c\"");
    assert_eq!(
        yaml_double("\n\u{7f}\u{85}\u{2028}"),
        "\"\\x0a\\x7f\\x85\\u2028\""
    );
    assert_eq!(yaml_value(&Value::Generic("it's".into())), "'it''s'");
}

/// Runs the importer over real zone files from other servers' test suites.
fn conformance(rel: &str, origin: &str) -> Option<String> {
    let path = Path::new(rel);
    if !path.exists() {
        eprintln!("skipping: {rel} not found (run from the repository root)");
        return None;
    }
    match import_master_file(path, origin) {
        Ok(yaml) => Some(yaml),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn conformance_nsd_unsigned() {
    let Some(yaml) = conformance(
        "../shared/conformance/nsd-tpkg/qtest/unsigned.zone",
        "example.org",
    ) else {
        return;
    };
    assert!(yaml.contains("ttl: 86400\n"), "{yaml}");
    assert!(
        yaml.contains("soa: { primary: \"a.ns\", contact: \"hostmaster\", serial: 2011030200,"),
        "{yaml}"
    );
    assert!(
        yaml.contains("  \"a.ns\":\n    A: { ttl: 3600, data: [\"1.2.3.53\", \"1.2.3.54\"] }\n"),
        "{yaml}"
    );
}

#[test]
fn conformance_knot_flags() {
    let Some(yaml) = conformance(
        "../shared/conformance/knot-tests-extra/data__flags.zone",
        "flags.",
    ) else {
        return;
    };
    assert!(yaml.contains("zone: \"flags\"\n"), "{yaml}");
    assert!(
        yaml.contains("    NS: [\"dns1\", \"dns.out-of-zone.\", \"dns2\"]\n"),
        "{yaml}"
    );
    assert!(yaml.contains("    TYPE10: ['\\# 0']\n"), "{yaml}");
    assert!(
        yaml.contains("    TYPE64: ['\\# 19 000009737663622d6c6f6f7005666c61677300']\n"),
        "{yaml}"
    );
}

#[test]
fn conformance_knot_records() {
    let Some(yaml) = conformance(
        "../shared/conformance/knot-tests-extra/data__records.zone",
        "records",
    ) else {
        return;
    };
    assert!(yaml.contains("contact: \"HOSTmaster\""), "{yaml}");
    assert!(
        yaml.contains("  \"dupl\":\n    MX: [\"10 some.domain\"]\n"),
        "{yaml}"
    );
    assert!(yaml.contains("  \"origin-case\":\n"), "{yaml}");
    assert!(yaml.contains("[\"\", \"ahoj\", \"\\\" #\"]"), "{yaml}");
    assert!(yaml.contains("  \"\\\\035leading.hash.char\":\n"), "{yaml}");
}

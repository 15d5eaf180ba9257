use conform::files::SourceFile;
use std::time::Instant;
include!("/tmp/gen.rs");
fn main() {
    let files = generate(10000);
    let catalog = conform::spec::Catalog::bundled().unwrap();
    for _ in 0..2 {
        let t = Instant::now();
        let docs: Vec<_> = files
            .iter()
            .map(|f| conform::located::Located::parse(&f.path, &f.text).unwrap())
            .collect();
        let parse = t.elapsed();
        let t = Instant::now();
        let v = conform::files::case_schema();
        for d in &docs {
            assert!(v.is_valid(&d.value));
        }
        let valid = t.elapsed();
        let t = Instant::now();
        for d in &docs {
            let _: conform::case::model::CaseFile = d.deserialize().unwrap();
        }
        let de = t.elapsed();
        let t = Instant::now();
        let _ = conform::case::Suite::from_files(&catalog, &files).unwrap();
        let all = t.elapsed();
        let t = Instant::now();
        let _ = conform::check::schema::SchemaSet::compile(&catalog).unwrap();
        let comp = t.elapsed();
        let t = Instant::now();
        let _ = conform::spec::Catalog::bundled().unwrap();
        let cat = t.elapsed();
        println!("parse {parse:?} validate {valid:?} deserialize {de:?} suite-total {all:?} schemas {comp:?} catalog {cat:?}");
    }
}

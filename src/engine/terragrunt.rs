//! Terragrunt units: every `terragrunt.hcl` is parsed, and each is evaluated with the files it
//! includes and reads (`eval::terragrunt`) to learn the module it runs and its `inputs`. The
//! Terraform stage then evaluates that module as a root module of its own, once per unit,
//! with the unit's inputs as its variables.
//!
//! Files a unit includes or reads (`root.hcl`, `account.hcl`) are read through the loader,
//! like `file()`: only below the scanned roots, each parsed once for all units.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use super::guard::guarded;
use super::loader::Loader;
use super::read::{too_deep_error, too_deeply_nested};
use super::{Cache, InputFile, unit_of};
use crate::discover::FileKind;
use crate::eval::terragrunt::{ConfigFiles, Env, Source, UnitConfig, config_dir};
use crate::eval::workspace::Workspace;
use crate::parse::ParseError;
use crate::source::{FileId, SourceMap, Span};

/// One `terragrunt.hcl`, evaluated.
pub(super) struct Unit {
    pub file: FileId,
    /// Its folder as shown to the user: the deployment unit its facts belong to.
    pub name: String,
    /// Its folder, absolute (as `eval::terragrunt` makes paths).
    pub dir: PathBuf,
    pub config: UnitConfig,
}

/// Every `terragrunt.hcl` of the scan, evaluated, and the syntax errors of the Terragrunt
/// files read.
#[derive(Default)]
pub(super) struct Units {
    pub units: Vec<Unit>,
    pub parse_errors: Vec<ParseError>,
}

/// What reading the Terragrunt files needs.
pub(super) struct Inputs<'a> {
    pub sources: &'a SourceMap,
    pub files: &'a [InputFile],
    pub loader: &'a Loader<'a>,
    pub cache: Option<&'a Cache>,
    pub cwd: &'a Path,
    pub shown_from: &'a Path,
    /// What the run may evaluate, shared with the Terraform stage.
    pub budget: &'a crate::eval::budget::Budget,
}

pub(super) fn units(inputs: Inputs<'_>) -> Units {
    let Inputs {
        sources,
        files,
        loader,
        cache,
        cwd,
        shown_from,
        budget,
    } = inputs;
    let found: Vec<&InputFile> = files
        .iter()
        .filter(|f| f.kind == FileKind::Terragrunt)
        .collect();
    if found.is_empty() {
        return Units::default();
    }
    let parsed: Vec<(&InputFile, Result<_, ParseError>)> = found
        .into_par_iter()
        .map(|file| (file, parse(sources, file, cache)))
        .collect();
    let config_files = ConfigFiles::new(|id, text| {
        too_deeply_nested(text).map(|offset| too_deep_error(id, offset))
    });
    let mut parse_errors = Vec::new();
    let mut configs = Vec::new();
    let mut unreadable = Vec::new();
    for (file, result) in parsed {
        match result {
            Ok(body) => {
                let path = normalize_abs(cwd, &file.path);
                let text = sources.get(file.id).text.clone();
                let dir = Arc::new(config_dir(file.id, &path, body, text));
                config_files.insert(file.id, Some(dir.clone()));
                configs.push((file, dir));
            }
            // What a unit that cannot be parsed runs is unknown: it may make any role.
            Err(error) => {
                config_files.insert(file.id, None);
                parse_errors.push(error);
                unreadable.push(file);
            }
        }
    }
    let workspace = Workspace {
        dirs: Default::default(),
        models: Vec::new(),
        loader,
        budget,
    };
    let env = Env {
        workspace: &workspace,
        files: &config_files,
        cwd: cwd.to_path_buf(),
        shown_from: shown_from.to_path_buf(),
    };
    let (mut units, errors): (Vec<Unit>, Vec<Option<ParseError>>) = configs
        .into_par_iter()
        .map(|(file, dir)| {
            let name = file.path.file_name().unwrap_or_default();
            // An internal bug while evaluating costs this unit (it is then unknown), not the run.
            let evaluated = guarded(file.id, name, "eval:", || env.unit(&file.path, &dir));
            let (config, error) = match evaluated {
                Ok(config) => (config, None),
                Err(error) => (unknown(file.id), Some(error)),
            };
            let unit = Unit {
                file: file.id,
                name: unit_of(sources, file.id),
                dir: env.absolute(file.path.parent().unwrap_or(Path::new(""))),
                config,
            };
            (unit, error)
        })
        .unzip();
    units.extend(unreadable.into_iter().map(|file| Unit {
        file: file.id,
        name: unit_of(sources, file.id),
        dir: env.absolute(file.path.parent().unwrap_or(Path::new(""))),
        config: unknown(file.id),
    }));
    parse_errors.extend(errors.into_iter().flatten());
    parse_errors.extend(config_files.into_errors());
    Units {
        units,
        parse_errors,
    }
}

fn normalize_abs(cwd: &Path, path: &Path) -> PathBuf {
    crate::eval::workspace::normalize(&cwd.join(path))
}

fn parse(
    sources: &SourceMap,
    file: &InputFile,
    cache: Option<&Cache>,
) -> Result<hcl_edit::structure::Body, ParseError> {
    let id = file.id;
    let text = sources.get(id).text.clone();
    let name = file.path.file_name().unwrap_or_default();
    let parse =
        || guarded(id, name, "", || crate::parse::hcl::parse_body(id, &text)).and_then(|r| r);
    match cache {
        Some(cache) => cache.terraform.get(id, sources.get(id), |_| true, parse),
        None => parse(),
    }
}

/// A unit whose configuration could not be evaluated: it may run anything.
fn unknown(file: FileId) -> UnitConfig {
    UnitConfig {
        source: Source::Unknown,
        source_span: Span::file_start(file),
        may_run: Vec::new(),
        inputs: Default::default(),
        inputs_incomplete: true,
        skip: false,
        generates_code: false,
        files: Default::default(),
        limits_hit: Vec::new(),
    }
}

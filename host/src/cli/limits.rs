//! The fields of a limits manifest as flags, listed once: `plugin manifest`
//! asks for them, `setup limits` caps them (`--max-<field>` each).

use clap::{ArgMatches, Args, Command, FromArgMatches};

use crate::engine::Manifest;

/// One flag per capped field of a limits manifest; those not given stay
/// unset. The help is what a plugin asks for (`plugin manifest`);
/// [`CapFlags`] gives the same fields as caps.
#[derive(Debug, Args)]
pub(crate) struct LimitFlags {
    /// Core instances of one plugin instance
    #[arg(long, value_name = "N")]
    core_instances: Option<u32>,
    /// Linear memories of one plugin instance
    #[arg(long, value_name = "N")]
    memories: Option<u32>,
    /// Tables of one plugin instance
    #[arg(long, value_name = "N")]
    tables: Option<u32>,
    /// The most linear memory of one plugin instance, in MiB
    #[arg(long, value_name = "MIB")]
    memory_mib: Option<u32>,
    /// Wall-clock time of one call, in ms
    #[arg(long, value_name = "MS")]
    call_ms: Option<u64>,
    /// Wall-clock time a batch gets per contact, in µs
    #[arg(long, value_name = "US")]
    batch_contact_us: Option<u64>,
    /// Fuel (about one instruction a unit) of one call [default: 10 million]
    #[arg(long, value_name = "UNITS")]
    call_fuel: Option<u64>,
    /// Fuel per contact of a batch [default: 6000]
    #[arg(long, value_name = "UNITS")]
    batch_contact_fuel: Option<u64>,
}

impl LimitFlags {
    /// The manifest of the flags given, the other fields unset.
    pub(crate) fn manifest(&self) -> Manifest {
        Manifest {
            core_instances: self.core_instances,
            memories: self.memories,
            tables: self.tables,
            memory_mib: self.memory_mib,
            call_ms: self.call_ms,
            batch_contact_us: self.batch_contact_us,
            call_fuel: self.call_fuel,
            batch_contact_fuel: self.batch_contact_fuel,
            ..Manifest::default()
        }
    }
}

/// `setup limits`' flags: the fields of [`LimitFlags`] as caps, each named
/// `--max-<field>` and helped by [`CAP_HELP`].
#[derive(Debug)]
pub(crate) struct CapFlags(pub(crate) LimitFlags);

/// What each field means as a cap, with the default cap.
const CAP_HELP: [(&str, &str); 8] = [
    (
        "core_instances",
        "Core instances per plugin instance (default 8; componentize-py needs 38)",
    ),
    (
        "memories",
        "Linear memories per plugin instance (default 2)",
    ),
    ("tables", "Tables per plugin instance (default 4)"),
    (
        "memory_mib",
        "Linear memory per plugin instance, in MiB (default 32)",
    ),
    (
        "call_ms",
        "Wall-clock time of one call, in ms (default: the process's call deadline)",
    ),
    (
        "batch_contact_us",
        "Wall-clock time per contact of a batch, in µs (default 2)",
    ),
    ("call_fuel", "Fuel of one call (default 10 million)"),
    (
        "batch_contact_fuel",
        "Fuel per contact of a batch (default 6000; an interpreter in WebAssembly needs 50k-100k)",
    ),
];

impl CapFlags {
    /// The flags of [`LimitFlags`] on `cmd`, renamed and helped as caps.
    /// A field without a cap's help panics at the first parse (any test).
    fn as_caps(cmd: Command) -> Command {
        let fields = LimitFlags::augment_args(Command::new("fields"));
        fields.get_arguments().fold(cmd, |cmd, field| {
            let id = field.get_id().as_str();
            let (_, help) = CAP_HELP
                .iter()
                .find(|(field, _)| *field == id)
                .unwrap_or_else(|| panic!("no help for `{id}` as a cap in CAP_HELP"));
            cmd.mut_arg(id, |arg| {
                let long = format!("max-{}", arg.get_long().unwrap_or(id));
                arg.long(long)
                    .value_name(format!("MAX_{}", id.to_ascii_uppercase()))
                    .help(*help)
            })
        })
    }
}

impl Args for CapFlags {
    fn augment_args(cmd: Command) -> Command {
        Self::as_caps(LimitFlags::augment_args(cmd))
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::as_caps(LimitFlags::augment_args_for_update(cmd))
    }
}

impl FromArgMatches for CapFlags {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        LimitFlags::from_arg_matches(matches).map(CapFlags)
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches(matches)
    }
}

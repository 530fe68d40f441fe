"""The record of one suggest cycle: what was fitted, with which settings, why, which
diagnostics and which warnings.

A `CycleRecord` is written by the model step, stored as JSON in the campaign log (table
`cycles`, column `info`) and read back, checked field by field, by the report, the history,
the command line and simulations. Version 1 is the first typed version; logs written before
it have no version and read as version 0, their fields as here (keys this version does not
know, such as an early version's private "_encoding", are left out). A record from a newer
designloop, or one whose fields have the wrong types, is refused with one line naming the
cycle and the field.

A new field needs its type among `_KINDS` (checked when this module is imported) and a
higher VERSION, so that an older designloop refuses the record as newer instead of calling
it damaged. A record is written with the lowest version that holds its fields
(`FIELD_VERSIONS`), so that logs that use nothing new stay readable by earlier versions.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from designloop.errors import InputError

VERSION = 4  # the newest this designloop reads
# the version that introduced each later field; a record is written with the lowest version
# that holds the fields it sets
FIELD_VERSIONS = {"feasibility": 2, "candidate_filter": 3, "objective": 4}


class NewerRecordError(InputError):
    """A cycle record written by a newer designloop (upgrade designloop to read it)."""


@dataclass
class CycleRecord:
    """One suggest cycle.

    Attributes:
        k: suggestions asked for.
        seed: the campaign's seed.
        reason: why no model was fitted (the initial design, or one class only so far).
        encoding: the SMILES encoding of the features (None without SMILES columns).
        encoding_reason: why that encoding.
        encoding_scores: leave-one-out log likelihood of each encoding, when compared.
        classes: the class names, for classification.
        surrogate_choice: the classifier chosen for `surrogate="auto"`: `chosen`, `n` (labels
            it was chosen on), `brier` and `log_loss` per model, `reason` when kept.
        fit_seconds: time to fit the surrogate.
        surrogate_params: the fitted surrogate's settings.
        diagnostics: calibration diagnostics of the fit (see `designloop.trust.calibration`).
        warnings: what the user should know about this cycle's model.
        selection: the batch rule.
        screened: whether the pool was screened by variance bounds instead of predicted in
            full (the picks are the same).
        best_f: the incumbent improvement acquisitions tried to beat.
        incumbent: "posterior" or "observed" (how `best_f` was found).
        ood_method: how extrapolation was flagged.
        conformal_level: the coverage of the suggestions' conformal intervals or sets.
        feasibility: how the chance of success weighted the scores, once experiments had
            failed: `failed` and `succeeded` (the experiments the classifier learnt from),
            `classifier`, `rule`, `selection` (a note when the batch rule had to change)
            and `p_success_of_picks`. None until a failure is seen.
        candidate_filter: the filter on the candidates in force (see
            `designloop.campaign.filters`), None without one.
        objective: with several targets, how they were combined this cycle (`objective`,
            `complete` candidates, the `bounds` used and, for Pareto, the `weights`).
        version: the record's format.
        fit_state: what the model step leaves for the next cycle (`designloop.campaign.reuse`);
            the campaign log keeps it in its own table (`designloop.campaign.fit_log`), not
            in the record's JSON, so it never changes the record's format.
    """

    k: int
    seed: int
    reason: str | None = None
    encoding: str | None = None
    encoding_reason: str | None = None
    encoding_scores: dict | None = None
    classes: list | None = None
    surrogate_choice: dict | None = None
    fit_seconds: float | None = None
    surrogate_params: dict | None = None
    diagnostics: dict | None = None
    warnings: list = field(default_factory=list)
    selection: str | None = None
    screened: bool = False
    best_f: float | None = None
    incumbent: str | None = None
    ood_method: str | None = None
    conformal_level: float | None = None
    feasibility: dict | None = None
    candidate_filter: str | None = None
    objective: dict | None = None
    version: int = VERSION
    fit_state: dict | None = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        # a new record takes the lowest version that holds its fields, so that earlier
        # designloop versions read what they can
        if self.version == VERSION:
            self.version = self.needed_version()

    def needed_version(self) -> int:
        """The lowest format version that holds the fields set."""
        return max([1, *(v for name, v in FIELD_VERSIONS.items()
                         if getattr(self, name) is not None)])

    def to_json(self) -> dict:
        """The fields that are set, as JSON-ready values (what the log stores)."""
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None or f.name in _NOT_LOGGED or (
                    f.name in ("warnings", "screened") and not value):
                continue
            out[f.name] = value
        out["version"] = max(self.version, self.needed_version())
        return out

    @classmethod
    def from_json(cls, data, where: str) -> CycleRecord:
        """The record stored as `data`; `where` names it in errors ("lab.db: the info of
        cycle 3 (table cycles)").

        Raises:
            InputError: not a JSON object, a field of the wrong type or unknown to this
                designloop, or a newer version.
        """
        if not isinstance(data, dict):
            raise InputError(f"{where} is not a JSON object")
        data = dict(data)
        data.setdefault("version", 0)
        version = data["version"]
        if not isinstance(version, int) or isinstance(version, bool) or version < 0:
            raise InputError(f"{where} holds version={version!r}, not a format version")
        if version > VERSION:
            raise NewerRecordError(f"{where} has format version {version}, newer than this "
                                   f"designloop reads ({VERSION}); upgrade designloop")
        known = {f.name: f for f in dataclasses.fields(cls) if f.name not in _NOT_LOGGED}
        unknown = sorted(set(data) - set(known))
        if unknown and version == 0:  # an early log's own keys: not part of the record
            data = {key: value for key, value in data.items() if key in known}
        elif unknown:
            raise InputError(f"{where} has unknown field(s) {unknown}")
        for key in ("k", "seed"):
            data.setdefault(key, 0)  # logs of version 0 may lack them
        for name, value in data.items():
            kinds = _KINDS[known[name].type]
            if value is None and known[name].default is None:
                continue
            if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
                raise InputError(f"{where} holds {name}={value!r}, not {_NAMES[known[name].type]}")
        if not all(isinstance(w, str) for w in data.get("warnings", [])):
            raise InputError(f"{where} holds warnings that are not text")
        return cls(**data)


_NOT_LOGGED = {"fit_state"}  # fields kept outside the record's JSON
_KINDS = {"int": (int,), "str | None": (str,), "dict | None": (dict,), "list | None": (list,),
          "float | None": (int, float), "list": (list,), "bool": (bool,)}
_NAMES = {"int": "a whole number", "str | None": "text", "dict | None": "a JSON object",
          "list | None": "a JSON array", "float | None": "a number", "list": "a JSON array",
          "bool": "true or false"}
assert all(f.type in _KINDS for f in dataclasses.fields(CycleRecord)), \
    "every CycleRecord field needs its type in records._KINDS"

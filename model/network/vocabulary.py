"""The public vocabulary (docs/model.md): the names and states users and files speak in.

Only names live here (they are the contract); every number lives in priors/.
"""

from __future__ import annotations

GROUPS = ("common", "uncommon", "rare")
TRIAGE_LEVELS = ("self_care", "routine", "soon", "emergency")
BINARY_STATES = ("absent", "present")

CAUSES = (
    "stress_anxiety",
    "sleep_deprivation",
    "stimulants",
    "exercise_fatigue",
    "dehydration",
    "alcohol",
    "eyelid_myokymia",
    "nutritional_deficiency",
    "medication_side_effect",
    "benign_fasciculation_syndrome",
    "radiculopathy",
    "peripheral_neuropathy",
    "hyperthyroidism",
    "hemifacial_spasm",
    "dystonia",
    "tic_disorder",
    "hypocalcemia",
    "kidney_disease",
    "multiple_sclerosis",
    "myositis_lupus",
    "muscular_dystrophy",
    "spinal_muscular_atrophy",
    "isaacs_syndrome",
    "als_mnd",
    "seizure",
)

REGIONS = ("eyelid", "face", "tongue", "arm", "leg", "trunk")
REGION_NODES = tuple(f"twitch_{r}" for r in REGIONS)
REGION_ALIASES = {"widespread": ("arm", "leg", "trunk")}

ORDINAL_FINDINGS = {
    "duration": ("under_1_week", "1_to_2_weeks", "2_weeks_to_3_months", "over_3_months"),
    "weakness": ("none", "mild", "marked"),
    "progression": ("stable_or_improving", "worsening"),
}
BINARY_FINDINGS = (
    "numbness",
    "wasting",
    "cramps",
    "stiffness",
    "pain",
    "bulbar",
    "breathing",
    "vision",
    "fatigue",
    "sweating",
    "tremor",
    "joint_pain_or_rash",
    "seizure_episode",
    "tics",
    "abnormal_posture",
    "perioral_tingling",
    "hand_spasm",
    "heat_or_weight_loss",
    "sudden_one_sided",
    "fever_or_confusion",
)
# `weakness_where` (docs/model.md): where the weakness is, any subset of these, one binary
# node each. It describes weakness that is there: a named pattern needs `weakness` mild
# or marked (`PATTERN_OF`), and `weakness` none leaves all three absent.
WEAKNESS_WHERE = ("one_limb", "shoulders_hips", "hands_feet")
WEAKNESS_WHERE_NODES = tuple(f"weak_{w}" for w in WEAKNESS_WHERE)
FINDINGS = REGION_NODES + tuple(ORDINAL_FINDINGS) + BINARY_FINDINGS + WEAKNESS_WHERE_NODES
# The pattern nodes of a finding: finding -> its pattern nodes. A pattern node's links
# are P(pattern | cause, the cause's own contribution to the finding is above its first
# state), its leak P(pattern | the leak's contribution is above it) (priors/findings.toml
# marks them `pattern_of`); a pattern said present with the finding in its first state is
# a contradiction (`REQUIRES`).
PATTERN_OF = {"weakness": WEAKNESS_WHERE_NODES}

MEDICATIONS = ("corticosteroid", "stimulant", "estrogen", "diuretic", "antidepressant", "antihypertensive")
MEDICATION_NODES = tuple(f"med_{m}" for m in MEDICATIONS)

CATEGORICAL_EXPOSURES = {
    "caffeine": ("low", "moderate", "high"),
    "sleep": ("adequate", "short"),
    "stress": ("low", "high"),
    "exercise": ("none", "recent_strenuous"),
    "alcohol_intake": ("none_or_moderate", "heavy"),
    "diet": ("balanced", "poor"),
    "age": ("under_40", "40_to_60", "over_60"),
    "sex": ("female", "male"),
}
BINARY_EXPOSURES = (
    "smoking",
    "fluid_loss",
    "eye_strain",
    "family_history",
    "kidney_disease_known",
    "back_or_neck_problem",
    "new_medication",
    "alcohol_stopped",
)
EXPOSURES = tuple(CATEGORICAL_EXPOSURES) + BINARY_EXPOSURES + MEDICATION_NODES


def node_states(name: str) -> tuple[str, ...]:
    """The states of a finding or exposure node, in order."""
    if name in ORDINAL_FINDINGS:
        return ORDINAL_FINDINGS[name]
    if name in CATEGORICAL_EXPOSURES:
        return CATEGORICAL_EXPOSURES[name]
    if name in FINDINGS or name in EXPOSURES or name in CAUSES:
        return BINARY_STATES
    raise KeyError(name)

# docs/model.md: the exposure -> cause edges. Age and sex may feed any cause whose rates
# differ by them (docs/sources.md, section 1); every other edge must be one of these, and each of
# these must be in priors/.
EXPOSURE_EDGES = {
    "caffeine": ("stimulants",),
    "smoking": ("stimulants",),
    "sleep": ("sleep_deprivation",),
    "stress": ("stress_anxiety", "benign_fasciculation_syndrome"),
    "exercise": ("exercise_fatigue", "dehydration"),
    "alcohol_intake": ("alcohol", "peripheral_neuropathy", "nutritional_deficiency"),
    "med_corticosteroid": ("medication_side_effect",),
    "med_stimulant": ("medication_side_effect",),
    "med_estrogen": ("medication_side_effect",),
    "med_diuretic": ("medication_side_effect", "nutritional_deficiency"),
    "med_antidepressant": ("medication_side_effect",),
    "med_antihypertensive": ("medication_side_effect",),
    "diet": ("nutritional_deficiency", "hypocalcemia"),
    "fluid_loss": ("dehydration", "nutritional_deficiency"),
    "eye_strain": ("eyelid_myokymia",),
    "kidney_disease_known": ("kidney_disease", "hypocalcemia"),
    "back_or_neck_problem": ("radiculopathy",),
    "family_history": ("als_mnd", "muscular_dystrophy", "spinal_muscular_atrophy"),
    "new_medication": ("medication_side_effect",),
    "alcohol_stopped": ("alcohol",),
}
# docs/model.md: an exposure that acts only through others. Its relative risks apply only
# where at least one of these is in a state but its first (a new or changed medicine
# matters only if it is one of the listed medicines; stopping heavy drinking only with
# `alcohol_intake` heavy); elsewhere its relative risk is 1.
ACTS_THROUGH = {"new_medication": MEDICATION_NODES, "alcohol_stopped": ("alcohol_intake",)}
# What the evidence must hold for a node said present: at least one of these nodes in a
# state but its first. Said present with all of them in their first state is a
# `ValueError` (docs/model.md): the exposures that act only through others, and the
# pattern nodes of a finding (a weakness pattern with `weakness` none).
REQUIRES = {
    **ACTS_THROUGH,
    **{node: (finding,) for finding, nodes in PATTERN_OF.items() for node in nodes},
}
FREE_EXPOSURES = ("age", "sex")

# The words that answer yes or no, wherever an answer is typed or passed (`infer`'s
# values, the command line, the interview), and the words a group question takes for
# "at least one of these" and "none of these" besides yes and no.
YES_WORDS = ("yes", "y", "true", "present", "1")
NO_WORDS = ("no", "n", "false", "absent", "0")
ANY_WORDS = ("any",) + YES_WORDS
NONE_WORDS = ("none",) + NO_WORDS

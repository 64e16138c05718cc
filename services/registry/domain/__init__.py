"""The registry's domain, pure (no I/O, clock or random ids): the commands, the Family aggregate
(state, decide, evolve), its personal parts and errors, and the rules they apply — identity numbers
(`identity`), input checks (`validation`) and the WHO growth standards (`growth`).

Imports go one way: commands, errors, personal ← identity ← validation ← growth ← family."""

from services.registry.domain.commands import (
    AddMember,
    Command,
    ErasePersonalData,
    ExitFamily,
    NewMember,
    RecordGrowth,
    RegisterFamily,
    VerifyFamily,
)
from services.registry.domain.errors import (
    AlreadyActive,
    FamilyAlreadyExists,
    FamilyNotActive,
    FamilyNotFound,
    FamilyNotPendingVerification,
    PersonalDataAlreadyErased,
)
from services.registry.domain.family import (
    ACTIVE_STATUSES,
    Family,
    MemberState,
    Status,
    active_niks,
    decide,
    evolve,
    family_niks,
    fold,
    member_counts,
)
from services.registry.domain.personal import (
    PERSONAL_PARTS,
    MemberPersonal,
    NotePersonal,
    PersonalPart,
    RegistrationPersonal,
)
from shared.errors import DomainError, FieldError, InvalidCommand
from shared.repository import Fact

__all__ = [
    "ACTIVE_STATUSES",
    "PERSONAL_PARTS",
    "AddMember",
    "AlreadyActive",
    "Command",
    "DomainError",
    "ErasePersonalData",
    "ExitFamily",
    "Fact",
    "Family",
    "FamilyAlreadyExists",
    "FamilyNotActive",
    "FamilyNotFound",
    "FamilyNotPendingVerification",
    "FieldError",
    "InvalidCommand",
    "MemberPersonal",
    "MemberState",
    "NewMember",
    "NotePersonal",
    "PersonalDataAlreadyErased",
    "PersonalPart",
    "RecordGrowth",
    "RegisterFamily",
    "RegistrationPersonal",
    "Status",
    "VerifyFamily",
    "active_niks",
    "decide",
    "evolve",
    "family_niks",
    "fold",
    "member_counts",
]

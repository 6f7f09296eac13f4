"""Tests of the shipped reference data and its diacritic-insensitive lookups."""

from __future__ import annotations

from desktop.forms import reference as ref


def test_all_99_lao_cai_communes_load_with_unique_codes() -> None:
    communes = ref.communes()
    assert len(communes) == 99
    assert len({c.code for c in communes}) == 99
    assert all(len(c.code) == 5 and c.code.isdigit() for c in communes)
    assert {c.kind for c in communes} == {"xã", "phường"}
    assert all(c.province_code == "15" for c in communes)
    assert all(c.name.startswith(("Xã ", "Phường ")) for c in communes)


def test_all_34_provinces_load_with_3321_communes_in_all() -> None:
    provinces = ref.provinces()
    assert len(provinces) == 34
    assert sum(p.commune_count for p in provinces) == 3321
    lao_cai = ref.province_by_code("15")
    assert lao_cai is not None and lao_cai.name == "Tỉnh Lào Cai" and lao_cai.commune_count == 99
    assert "Tỉnh Yên Bái" in lao_cai.old_provinces
    assert ref.province_by_code("10") is None  # the pre-2025 Lào Cai code


def test_all_54_ethnic_groups_load() -> None:
    groups = ref.ethnic_groups()
    assert len(groups) == 54
    assert [g.code for g in groups] == [f"{i:02d}" for i in range(1, 55)]
    assert ref.ethnic_group_by_code("08").name == "Mông"  # type: ignore[union-attr]


def test_commune_by_code() -> None:
    commune = ref.commune_by_code("04465")
    assert (
        commune is not None and commune.name == "Xã Khao Mang" and commune.short_name == "Khao Mang"
    )
    assert ref.commune_by_code("99999") is None
    assert ref.commune_by_code(None) is None  # type: ignore[arg-type]


def test_find_communes_is_diacritic_and_case_insensitive() -> None:
    assert [c.name for c in ref.find_communes("mu cang chai")] == ["Xã Mù Cang Chải"]
    assert ref.find_communes("KHAO MANG")[0].code == "04465"
    assert ref.find_communes("xã khao")[0].code == "04465"


def test_find_communes_matches_spelling_variants_and_merged_old_units() -> None:
    # Dế Xu Phình (NQ 1673) / Dế Su Phình (GSO) was merged into Púng Luông.
    assert ref.find_communes("de su phinh")[0].name == "Xã Púng Luông"
    assert ref.find_communes("Dế Xu Phình")[0].name == "Xã Púng Luông"
    # Hồ Bốn was merged into Khao Mang.
    assert ref.find_communes("ho bon")[0].name == "Xã Khao Mang"


def test_find_communes_ranks_names_before_aliases() -> None:
    results = ref.find_communes("khao")
    assert results[0].name == "Xã Khao Mang"
    assert len(ref.find_communes("")) == 99
    assert len(ref.find_communes("", limit=10)) == 10
    assert ref.find_communes("zzzz") == []
    assert ref.find_communes("0446")[0].code.startswith("0446")


def test_find_ethnic_group_accepts_names_and_spelling_variants() -> None:
    for typed in ("Mông", "H'Mông", "H’Mông", "HMông", "hmong", "H Mông", "Mèo", "MÔNG"):
        group = ref.find_ethnic_group(typed)
        assert group is not None and group.name == "Mông", typed
    assert ref.find_ethnic_group("Việt").name == "Kinh"  # type: ignore[union-attr]
    assert ref.find_ethnic_group("ro mam").name == "Rơ-măm"  # type: ignore[union-attr]
    assert ref.find_ethnic_group("Ba Na").name == "Ba-na"  # type: ignore[union-attr]


def test_find_ethnic_group_rejects_unknown_and_unverified_other_names() -> None:
    assert ref.find_ethnic_group("") is None
    assert ref.find_ethnic_group("Xyz") is None
    # "Thổ" is a group of its own (24), also listed as another name of Tày: the group wins.
    assert ref.find_ethnic_group("Thổ").code == "24"  # type: ignore[union-attr]
    assert ref.find_ethnic_group("Mán") is None  # an unverified other name of Dao


def test_every_accepted_spelling_denotes_its_own_group() -> None:
    for group in ref.ethnic_groups():
        for spelling in (group.name, *group.variants):
            found = ref.find_ethnic_group(spelling)
            assert found is not None and found.code == group.code, spelling


def test_find_ethnic_groups_for_the_dropdown() -> None:
    names = [g.name for g in ref.find_ethnic_groups("tay")]
    assert names[0] == "Tày"
    assert "Thái" in names  # through its other name "Tày Khao"
    assert len(ref.find_ethnic_groups("")) == 54


def test_find_provinces_by_name_and_old_province() -> None:
    assert ref.find_provinces("lao cai")[0].code == "15"
    assert ref.find_provinces("yen bai")[0].code == "15"  # Yên Bái merged into Lào Cai
    assert ref.find_provinces("ha noi")[0].code == "01"
    assert len(ref.find_provinces("")) == 34


def test_procedures_catalog_has_the_four_national_codes() -> None:
    rows = ref.procedures_catalog()
    assert len(rows) == 41
    codes = {row["code"] for row in rows}
    assert {"1.001193", "1.000656", "1.004873", "1.000894"} <= codes

"""YAML recognizers: the package's own, the user's folders, and bad files named with file and key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deid.errors import ConfigError
from deid.settings import Settings, load_settings
from recognizers import MIN_SCORE, build_analyzer
from recognizers.yaml_loader import PACKAGE_YAML_DIR, load_yaml_recognizers
from tests.conftest import deid_env, run_deid

EMPLOYEE_IDS = """
recognizers:
  - name: EmployeeIdRecognizer
    supported_entity: EMPLOYEE_ID
    patterns:
      - {name: employee id, regex: "\\\\bEMP-\\\\d{6}\\\\b", score: 0.6}
    context: [employee]
  - name: TitleRecognizer
    supported_entity: TITLE
    supported_language: en
    deny_list: [Dr., Prof.]
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def entities(analyzer, text: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {r.entity_type: text[r.start : r.end] for r in analyzer.analyze(text, language="en") if r.score >= MIN_SCORE}


def test_package_folder_holds_user_id() -> None:
    names = {r.name: r.supported_entities for r in load_yaml_recognizers([PACKAGE_YAML_DIR])}
    assert names["UserIdRecognizer"] == ["USER_ID"]


def test_configured_folder_adds_recognizers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "mine", "hr.yaml", EMPLOYEE_IDS)
    monkeypatch.setenv("DEID_RECOGNIZER_DIRS", str(tmp_path / "mine"))
    analyzer = build_analyzer(load_settings(), engine="blank")
    found = entities(analyzer, "Dr. Smit, employee EMP-004211, user-48213")
    # PERSON from deid's own name recognizer (a courtesy title before a capitalised word), even without NER.
    assert found == {"EMPLOYEE_ID": "EMP-004211", "TITLE": "Dr.", "USER_ID": "user-48213", "PERSON": "Smit"}
    # The same folder given as extra_dirs is the same configuration.
    assert build_analyzer(Settings(), engine="blank", extra_dirs=[tmp_path / "mine"]) is analyzer


def test_yml_suffix_and_name_order(tmp_path: Path) -> None:
    write(tmp_path, "b.yml", EMPLOYEE_IDS)
    write(tmp_path, "notes.txt", "not a recognizer file")
    assert [r.name for r in load_yaml_recognizers([tmp_path])] == ["EmployeeIdRecognizer", "TitleRecognizer"]


BAD_FILES = [
    (
        "recognizers:\n  - name: Broken\n    supported_entity: X_ID\n    patterns:\n"
        "      - {name: p, regex: '[0-9', score: 0.5}\n",
        r"recognizers\[0\]\.patterns\[0\]\.regex \(recognizer 'Broken'\): not a valid regular expression",
    ),
    (
        "recognizers:\n  - name: Typo\n    supported_entities: [X_ID]\n    deny_list: [a]\n",
        r"recognizers\[0\]\.supported_entities \(recognizer 'Typo'\): unknown key",
    ),
    (
        "recognizers:\n  - name: Scored\n    supported_entity: X_ID\n    patterns:\n"
        "      - {name: p, regex: 'x', score: 1.5}\n",
        r"recognizers\[0\]\.patterns\[0\]\.score",
    ),
    ("recognizers:\n  - name: Empty\n    supported_entity: X_ID\n", r"recognizers\[0\].*needs patterns or a deny_list"),
    (
        "recognizers:\n  - name: German\n    supported_entity: X_ID\n    supported_language: de\n    deny_list: [a]\n",
        r"recognizers\[0\]\.supported_language .*would never run",
    ),
    (
        "recognizers:\n  - name: lower\n    supported_entity: x id\n    deny_list: [a]\n",
        r"recognizers\[0\]\.supported_entity",
    ),
    ("recognizers:\n  - name: [unclosed\n", r"not valid YAML at line \d"),
    ("- name: a list\n", r"expected a mapping with a 'recognizers' list"),
    ("{}\n", r"recognizers: Field required"),
]


@pytest.mark.parametrize(("text", "message"), BAD_FILES)
def test_bad_file_names_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, "bad.yaml", text)
    with pytest.raises(ConfigError, match=message) as info:
        load_yaml_recognizers([tmp_path])
    assert str(info.value).startswith(f"recognizer file {path}: ")


def test_bad_file_stops_build_analyzer(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", BAD_FILES[0][0])
    with pytest.raises(ConfigError, match=str(path)):
        build_analyzer(Settings(recognizer_dirs=[tmp_path]), engine="blank")


def test_duplicate_name_and_missing_folder(tmp_path: Path) -> None:
    first = write(tmp_path / "one", "a.yaml", EMPLOYEE_IDS)
    second = write(tmp_path / "two", "b.yaml", EMPLOYEE_IDS)
    with pytest.raises(
        ConfigError, match=f"{second}: recognizer name 'EmployeeIdRecognizer' is already defined in {first}"
    ):
        load_yaml_recognizers([tmp_path / "one", tmp_path / "two"])
    with pytest.raises(ConfigError, match=r"recognizer_dirs: .*nowhere is not a directory"):
        build_analyzer(Settings(), engine="blank", extra_dirs=[tmp_path / "nowhere"])


def test_recognizer_dirs_from_config_file_and_shown_by_deid_config(tmp_path: Path) -> None:
    config = write(tmp_path, "deid.yaml", f"recognizer_dirs: [{tmp_path / 'a'}, {tmp_path / 'b'}]\nnlp_engine: blank\n")
    done = run_deid("config", "--json", env=deid_env(DEID_CONFIG=str(config)))
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["recognizer_dirs"] == [str(tmp_path / "a"), str(tmp_path / "b")]
    assert shown["nlp_engine"] == "blank"

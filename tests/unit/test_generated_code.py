"""Generated protobuf/gRPC code must be exactly what proto/ generates: never stale, never hand-edited."""

import importlib.util
import pathlib

REPO = pathlib.Path(__file__).resolve().parents[2]


def load_generator():
    spec = importlib.util.spec_from_file_location("generate_protos", REPO / "proto" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_code_matches_proto(tmp_path):
    fresh = load_generator().generate(tmp_path)
    assert fresh, "no code generated"
    stale = []
    for path in fresh:
        relative = path.relative_to(tmp_path)
        in_tree = REPO / "services" / relative
        if not in_tree.exists() or in_tree.read_bytes() != path.read_bytes():
            stale.append(str(relative))
    in_tree_generated = {p.relative_to(REPO / "services") for p in (REPO / "services").rglob("*_pb2*.py*")}
    orphans = in_tree_generated - {p.relative_to(tmp_path) for p in fresh}
    assert not stale, f"stale generated code (run `make proto`): {stale}"
    assert not orphans, f"generated code with no proto behind it: {sorted(map(str, orphans))}"

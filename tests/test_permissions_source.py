"""One table of who may do what (issue 13): roles are compared in hub/permissions.py and in the
policy layers that decide disclosure and writes, nowhere else. A service asks
`authorize(viewer, Action.X, error)`; a route declares `require(Action.X)`."""

import ast
from pathlib import Path

HUB = Path(__file__).resolve().parent.parent / "hub"

# Where comparing roles is the job: the grants themselves, the disclosure policy layer and the
# write policy layer (their decision tables are in policies/), and the demo's seeding.
ROLE_DECIDERS = ("permissions.py", "disclosure/", "caserecord/writing.py", "demo/")

# Comparisons of roles that decide nothing about access, each with why.
NOT_ACCESS = {
    # "Already holds this role": a role change to the same role is refused as no change.
    ("accounts/administration.py", "change_role"),
}


def _is_role(node: ast.expr) -> bool:
    """`x.role` of an account or viewer, or a variable named role."""
    if isinstance(node, ast.Attribute) and node.attr == "role":
        return True
    return isinstance(node, ast.Name) and node.id == "role"


def _selects_by_role(node: ast.Compare) -> bool:
    """`User.role == ...` in a query picks whom to tell or list; `role is None` asks whether a
    form chose one. Neither decides who may act."""
    operands = [node.left, *node.comparators]
    column = any(
        isinstance(o, ast.Attribute) and isinstance(o.value, ast.Name) and o.value.id == "User"
        for o in operands
    )
    return column or any(isinstance(o, ast.Constant) and o.value is None for o in operands)


def role_comparisons(source: str) -> list[tuple[int, str]]:
    """(line, enclosing function) of every comparison that involves someone's role."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, function: str) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            function = node.name
        if (
            isinstance(node, ast.Compare)
            and any(_is_role(operand) for operand in [node.left, *node.comparators])
            and not _selects_by_role(node)
        ):
            found.append((node.lineno, function))
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(ast.parse(source), "<module>")
    return found


def test_no_role_is_compared_outside_the_permissions_and_the_policy_layers():
    offending = []
    for path in sorted(HUB.rglob("*.py")):
        name = path.relative_to(HUB).as_posix()
        if name.startswith(ROLE_DECIDERS):
            continue
        for line, function in role_comparisons(path.read_text()):
            if (name, function) not in NOT_ACCESS:
                offending.append(f"hub/{name}:{line} in {function}")
    assert offending == [], "ask hub.permissions.authorize or permits instead:\n" + "\n".join(
        offending
    )


def test_the_check_finds_a_role_comparison():
    source = (
        "def decide(viewer):\n"
        "    if viewer.role != Role.prosecutor:\n"
        "        raise ValueError\n"
        "    return select(User).where(User.role == Role.admin)\n"
    )
    assert role_comparisons(source) == [(2, "decide")]

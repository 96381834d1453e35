from schemakg.generation.candidates import Candidate, choose


def _candidate(signature: str | None, greedy: bool = False) -> Candidate:
    return Candidate(sql="SELECT 1", greedy=greedy, signature=signature, error=None if signature else "failed")


def test_the_majority_result_beats_the_greedy_one() -> None:
    candidates = [_candidate("a", greedy=True), _candidate("b"), _candidate("b")]
    assert choose(candidates) == 1
    assert [c.votes for c in candidates] == [1.5, 2.0, 2.0]


def test_the_greedy_decode_wins_ties() -> None:
    assert choose([_candidate("a", greedy=True), _candidate("b")]) == 0
    assert choose([_candidate("a", greedy=True), _candidate("b"), _candidate("c")]) == 0


def test_among_samples_the_first_of_a_tie_wins() -> None:
    assert choose([_candidate(None, greedy=True), _candidate("b"), _candidate("c")]) == 1


def test_candidates_that_did_not_run_never_win() -> None:
    candidates = [_candidate(None, greedy=True), _candidate(None), _candidate("c")]
    assert choose(candidates) == 2
    assert candidates[0].votes == 0.0
    assert choose([_candidate(None, greedy=True), _candidate(None)]) is None


def test_candidates_with_the_columns_the_question_lists_are_chosen_first() -> None:
    short = [_candidate("a", greedy=True), _candidate("a")]
    for candidate in short:
        candidate.too_few_columns = True
    candidates = [*short, _candidate("b")]  # one sample returns every listed attribute: it wins over two votes
    assert choose(candidates) == 2
    assert [c.votes for c in candidates] == [0.0, 0.0, 1.0]
    assert choose(short) == 0  # none has them all: the votes decide as before


def test_a_result_that_says_something_is_chosen_over_ones_that_say_nothing() -> None:
    empty = [_candidate("none", greedy=True), _candidate("none")]
    for candidate in empty:
        candidate.says_nothing = True
    candidates = [*empty, _candidate("rows")]
    assert choose(candidates) == 2
    assert [c.votes for c in candidates] == [0.0, 0.0, 1.0]
    assert choose(empty) == 0  # none says anything: the votes decide as before
    short = _candidate("short")
    short.too_few_columns = True
    assert choose([*empty, short]) == 0  # the question's shape comes first

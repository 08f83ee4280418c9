"""recognizers: everything Presidio for deid (see DESIGN.md and README "Recognizers").

- `build_analyzer(settings=None, *, engine=None, extra_dirs=())`: the process's AnalyzerEngine.
- `analyze_values(analyzer, values, ...)`: many short values at once (schema inference).
- `engine_choice(settings)`: which NLP engine is in force and why (`detects_names`).
"""

from recognizers.analyzer import build_analyzer, engine_choice
from recognizers.engine import EngineChoice

__all__ = ["EngineChoice", "build_analyzer", "engine_choice"]

"""`python -m benchmarks.sections`: this session's new sections alone (start-up costs and drift
false alarms beside Evidently), appended to RESULTS.md, without the rest of `make bench`."""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks import drift_alarm_bench, startup_bench
from benchmarks.common import table
from benchmarks.run import RESULTS
from services.core.settings import Settings
from services.demo.build import build_demo


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        build_demo(Settings(GOVERNANCE_HOME=root / "demo"),  # type: ignore[call-arg]
                   size="small", progress=lambda _line: None)
        sections = {"Start-up (CPU seconds; small demo workspace)":
                    startup_bench.run(root / "demo"),
                    "Drift verdicts: false alarms and detections (ours and Evidently's defaults)":
                    drift_alarm_bench.run(_folder(root / "alarms"))}
    lines = []
    for title, measures in sections.items():
        lines += [f"## {title} (`python -m benchmarks.sections`)", "", *table(measures), ""]
    RESULTS.write_text(RESULTS.read_text().rstrip() + "\n\n" + "\n".join(lines))
    print("\n".join(lines))


def _folder(path: Path) -> Path:
    path.mkdir()
    return path


if __name__ == "__main__":
    main()

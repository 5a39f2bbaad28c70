"""The server's entry point limits native thread pools before any of them starts."""

from __future__ import annotations

import subprocess
import sys

from bot.rasa_server.__main__ import SERVER_THREAD_LIMITS, limit_native_threads


def test_limits_are_set_where_the_operator_chose_none():
    environ = {"OPENBLAS_NUM_THREADS": "4", "PATH": "/bin"}
    limit_native_threads(environ)
    assert environ["OPENBLAS_NUM_THREADS"] == "4"  # the operator's choice stands
    assert environ["CLINIC_ENCODER_THREADS"] == "1"
    assert environ["TOKENIZERS_PARALLELISM"] == "false"
    assert set(SERVER_THREAD_LIMITS) <= set(environ)


def test_the_server_process_runs_numpy_on_one_blas_thread():
    # Importing the entry point must not load numpy before the limits are set; once set,
    # numpy's OpenBLAS pool has one thread.
    code = (
        "import sys, bot.rasa_server.__main__ as m\n"
        "assert 'numpy' not in sys.modules\n"
        "m.limit_native_threads()\n"
        "from threadpoolctl import threadpool_info\n"
        "import numpy\n"
        "print(sorted({i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas'}))\n"
    )
    env = {"PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[1]"

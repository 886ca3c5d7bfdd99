"""Tools for the customer-call workflow that are not part of the app: scripted calls with answer keys
(calls.py), their audio spoken by espeak-ng (make_audio.py), and the evaluation that runs the pipeline
on them and scores what it found (score.py, evaluate.py)."""

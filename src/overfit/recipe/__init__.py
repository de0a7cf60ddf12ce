"""Section 4.5, the universal workflow of machine learning, run as a pipeline stage on IMDB.

Each step of the book's recipe is a job: it reads the decision of the step
before, decides, and writes its decision with the evidence behind it as a
table (``results/recipe/<task>/<n>_<step>.csv``; the ``chosen`` rows are
the decisions). Only the last step reads the test split.

- ``tasks``: the problems it runs on, steps 1 (problem, measure of success)
  and 2 (evaluation protocol); free of JAX;
- ``baselines``: step 3, chance, the majority class and logistic regression;
- ``decide``: steps 4 to 7 decided from training curves; free of JAX;
- ``training``: the candidates of steps 4 to 7 trained by the engine;
- ``heads`` (the book's table of last-layer activations and losses, as
  data; free of JAX) and ``last_layer`` (that table, run).
"""

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
  data; free of JAX) and ``last_layer`` (that table, run);
- ``threshold``: imbalanced tasks as they are worked on (thresholds tuned on
  the other folds, precision-recall curves, class weights); free of JAX.

``threshold_tasks`` is here, importing nothing, because the workflow's rules
and the report's figure catalog read it: a job that only names the tasks
does not depend on the recipe's code.
"""


def threshold_tasks(config: dict) -> list[str]:
    """The tasks whose decision threshold is tuned (overfit.recipe.threshold): those drawn imbalanced (a
    positive_share), where the config's recipe has ``threshold``."""
    recipe = config.get("recipe") or {}
    if "threshold" not in recipe:
        return []
    return [task for task, settings in recipe["tasks"].items() if (settings or {}).get("positive_share") is not None]

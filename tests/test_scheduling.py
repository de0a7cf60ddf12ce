"""What the scheduler is told about the image studies: their expected cost orders them among the longest jobs."""

import copy

import yaml

from overfit import resources
from overfit.studies import image_settings

from conftest import REPO


def images():
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())["images"]


def test_an_image_study_costs_what_its_arms_train():
    study = {"epochs": 10, "arms": {"a": {}}}
    one = image_settings.training_flops(study, seeds=1, validation_split=0.2)
    # Dense(512) → Dense(10) on 48,000 + 12,000 images, 10 epochs
    assert one == 10 * (6 * 48000 + 2 * 12000) * (784 * 512 + 512 * 10)
    two_arms = {"epochs": 10, "arms": {"a": {}, "b": {"extra_channels": "noise"}}}
    assert image_settings.training_flops(two_arms, 1, 0.2) == one + 10 * (6 * 48000 + 2 * 12000) * (
        2 * 784 * 512 + 512 * 10)
    assert image_settings.training_flops(study, 5, 0.2) == 5 * one
    augmented = {"epochs": 10, "arms": {"a": {"augment": 1}}}
    assert image_settings.training_flops(augmented, 1, 0.2) == 10 * (6 * 96000 + 2 * 12000) * (784 * 512 + 512 * 10)


def test_the_longest_image_studies_get_the_highest_priority():
    config = images()
    minutes = {name: resources.image_study_runtime_minutes(config, name) for name in config["studies"]}
    assert minutes["noise_channels"] > minutes["normalization"] > minutes["capacity"]
    longer = copy.deepcopy(config)
    longer["studies"]["capacity"]["epochs"] *= 10
    assert resources.image_study_runtime_minutes(longer, "capacity") > minutes["capacity"]

"""Lambda's settings: the options' parsers, default images, the address functions call back on."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from awsemu.config import Config, ConfigError, config_from_options
from awsemu.lambda_ import endpoint_url
from awsemu.lambda_.executors.docker import default_image


class OptionTests(SynchronousTestCase):
    def test_lambda_options(self) -> None:
        config = config_from_options(
            {
                "lambda-executor": "process",
                "lambda-image": "python3.12=a/b:1, nodejs20.x=c",
                "lambda-keep-alive": "1.5",
                "lambda-max-environments": "3",
            },
            {"AWSEMU_LAMBDA_NETWORK": "bridge"},
        )
        self.assertEqual(config.lambda_executor, "process")
        self.assertEqual(config.lambda_image, (("python3.12", "a/b:1"), ("nodejs20.x", "c")))
        self.assertEqual((config.lambda_keep_alive, config.lambda_max_environments), (1.5, 3))
        self.assertEqual(config.lambda_network, "bridge")

    def test_bad_values(self) -> None:
        for name, text in [
            ("lambda-executor", "vm"),
            ("lambda-image", "python3.12"),
            ("lambda-keep-alive", "-1"),
            ("lambda-max-environments", "0"),
            ("lambda-retry-delay", "soon"),
        ]:
            with self.assertRaises(ConfigError):
                config_from_options({name: text}, {})


class AddressTests(SynchronousTestCase):
    def test_default_images(self) -> None:
        self.assertEqual(default_image("python3.12"), "public.ecr.aws/lambda/python:3.12")
        self.assertEqual(default_image("nodejs22.x"), "public.ecr.aws/lambda/nodejs:22")
        self.assertEqual(default_image("provided.al2023"), "public.ecr.aws/lambda/provided:al2023")

    def test_endpoint_url(self) -> None:
        self.assertEqual(endpoint_url(Config(port="tcp:4566")), "http://127.0.0.1:4566")
        self.assertEqual(
            endpoint_url(Config(port="tcp:5000:interface=127.0.0.2")), "http://127.0.0.2:5000"
        )
        self.assertEqual(
            endpoint_url(Config(port="tcp:5000:interface=0.0.0.0")), "http://127.0.0.1:5000"
        )

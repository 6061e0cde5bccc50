"""
Who may call awsemu: the access keys it knows (``keys``), the SigV4
algorithm (``sigv4``) and the check of every API request but S3's
(``verify``; S3 checks its own, with its extra rules, in ``awsemu.s3``).

``--auth`` picks how strict the checks are:

- ``off``: nothing is checked; any key of any shape is taken at its word.
- ``verify`` (the default): a key whose secret awsemu knows (IAM users'
  keys, STS sessions, ``--credentials``) must sign correctly; any other key
  (``test``/``test``) is accepted unchecked, as LocalStack and moto do.
- ``enforce``: as ``verify``, and unsigned requests and unknown keys are
  refused with each service's own error. The daemon's own endpoints
  (health) and the data planes (deployed APIs, function URLs, the Lambda
  Runtime API), which AWS does not sign-check this way, stay open.
"""

"""awsemu's tests."""

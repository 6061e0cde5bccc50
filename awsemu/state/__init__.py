"""What every store shares: --data-dir persistence and AWS-shaped ids."""

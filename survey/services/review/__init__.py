"""What staff do with responses after they arrive: comments and their follow-up, exclusions, comment retention."""

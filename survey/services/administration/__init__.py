"""The directory and its upkeep: agencies, counters, questionnaires, posters, transaction volumes, API listings."""

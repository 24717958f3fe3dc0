public enum PlaceholderElanusStorage {}

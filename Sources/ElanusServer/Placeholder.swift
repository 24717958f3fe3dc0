public enum PlaceholderElanusServer {}

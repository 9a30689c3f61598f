"""Results leaving Codewerk: the Word synthesis and code report, spreadsheets, REFI-QDA project exchange."""

/*
 * A raw 64 KiB BIOS image for `kvmpc -bios`: the CPU starts at its last
 * paragraph (0xfffffff0, CS base 0xffff0000), which jumps to the start of
 * the image and prints a line on COM1; a far jump then continues through
 * the copy of the image that the i440FX shows at 0xf0000 (PAM off: PCI,
 * where the image's tail is aliased), which prints a second line and
 * reports through isa-debug-exit (value 0x2a: exit status 85).
 *
 * Built by tests/functional/bios-rom.sh with the system gcc:
 *   gcc -m32 -nostdlib -Wl,--oformat=binary -Wl,-Ttext=0 -o rom.bin test-rom.S
 */
	.code16
	.text
	.globl _start
_start:
	cli
	mov %cs, %ax			/* 0xf000: DS at 0xf0000, the low copy */
	mov %ax, %ds
	mov $msg_top, %si
	call puts
	ljmp $0xf000, $low
low:
	mov $msg_low, %si
	call puts
	mov $0x501, %dx
	mov $0x2a, %al
	out %al, %dx
1:	hlt
	jmp 1b

/* Writes the NUL-terminated string at DS:SI to COM1's THR. */
puts:
	mov $0x3f8, %dx
2:	lodsb
	test %al, %al
	jz 3f
	out %al, %dx
	jmp 2b
3:	ret

msg_top:
	.asciz "test-rom: reset vector reached\r\n"
msg_low:
	.asciz "test-rom: running at 0xf0000\r\n"

	.org 0xfff0
reset:
	jmp _start
	.org 0x10000

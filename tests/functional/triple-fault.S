/* A Multiboot kernel that prints "TF" on COM1 and then triple-faults:
 * an empty IDT turns the first exception into a shutdown. */
    .text
    .align 4
    .long 0x1BADB002
    .long 0x00000000
    .long -0x1BADB002
    .globl _start
_start:
    movw $0x3f8, %dx
    movb $'T', %al
    outb %al, %dx
    movb $'F', %al
    outb %al, %dx
    movb $'\n', %al
    outb %al, %dx
    lidt idt_empty
    int3
1:  hlt
    jmp 1b
    .align 8
idt_empty:
    .word 0
    .long 0
